package io.vaultbroker.web;

import java.util.List;
import java.util.regex.Pattern;

import io.helidon.http.Header;
import io.helidon.http.HeaderValues;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRouting;

/**
 * The server's side of the dashboard: which brokers its page may talk to ({@code /dashboard.json},
 * the page's own origin unless the operator lists others in {@code dashboard.broker-urls}), and
 * the headers every HTTP response of ours carries so a pasted token cannot leave: a strict
 * Content-Security-Policy (scripts only from here, WebSockets only to here and the listed
 * brokers, no framing, no plugins, no {@code <base>}), {@code X-Frame-Options: DENY} for older
 * browsers, and {@code Referrer-Policy: no-referrer}. Immutable; safe to share.
 */
public final class Dashboard {
    /** What may stand in a CSP source list and a JSON string without escaping: no ';', ',', quotes or spaces. */
    private static final Pattern BROKER_URL =
            Pattern.compile("wss?://(?:[A-Za-z0-9.-]+|\\[[0-9A-Fa-f:.]+])(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~/-]*)?");

    private final List<String> brokerUrls;
    private final List<Header> headers;
    private final String json;

    /**
     * @param brokerUrls other brokers the page may connect to, e.g. {@code wss://broker.example.com/stomp}
     * @throws IllegalArgumentException naming an entry that is not a plain ws:// or wss:// URL
     */
    public Dashboard(List<String> brokerUrls) {
        for (String url : brokerUrls) {
            if (!BROKER_URL.matcher(url).matches()) {
                throw new IllegalArgumentException("dashboard.broker-urls entry '" + url.replaceAll("[^ -~]", "?")
                        + "' is not a ws:// or wss:// URL such as wss://broker.example.com/stomp"
                        + " (env DASHBOARD_BROKER_URLS_0, _1, ...)");
            }
        }
        this.brokerUrls = List.copyOf(brokerUrls);
        String connect = brokerUrls.isEmpty() ? "'self'" : "'self' " + String.join(" ", brokerUrls);
        String csp = "default-src 'self'; script-src 'self'; connect-src " + connect + "; img-src 'self' data:;"
                + " style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";
        this.headers = List.of(
                HeaderValues.createCached("Content-Security-Policy", csp),
                HeaderValues.createCached("X-Frame-Options", "DENY"),
                HeaderValues.createCached("Referrer-Policy", "no-referrer"),
                HeaderValues.createCached("X-Content-Type-Options", "nosniff"));
        this.json = "{\"brokerUrls\":[" + String.join(",", brokerUrls.stream().map(u -> "\"" + u + "\"").toList()) + "]}";
    }

    /** The headers on every response, then {@code GET /dashboard.json}. */
    public void routing(HttpRouting.Builder routing) {
        routing.addFilter((chain, req, res) -> {
            headers.forEach(res::header);
            chain.proceed();
        });
        routing.get("/dashboard.json", (req, res) -> {
            res.header(HeaderValues.CONTENT_TYPE_JSON);
            res.header(HeaderValues.create(HeaderNames.CACHE_CONTROL, "no-store"));
            res.send(json);
        });
    }

    /** The brokers besides the page's own origin. */
    public List<String> brokerUrls() {
        return brokerUrls;
    }

    /** The Content-Security-Policy value. */
    public String contentSecurityPolicy() {
        return headers.getFirst().get();
    }
}
