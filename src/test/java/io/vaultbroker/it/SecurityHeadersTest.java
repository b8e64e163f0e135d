package io.vaultbroker.it;

import java.net.http.HttpResponse;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Every HTTP response of the broker (the dashboard's files, the WebJar, observe, a 404) carries a
 * strict Content-Security-Policy, X-Frame-Options: DENY and Referrer-Policy: no-referrer; the
 * dashboard learns of other brokers only from dashboard.broker-urls.
 */
class SecurityHeadersTest {
    static final String CSP = "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:;"
            + " style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

    @Test
    void everyResponseCarriesTheHeaders() throws Exception {
        Application app = TestBroker.start();
        try {
            for (String path : List.of("/", "/index.html", "/app.js", "/style.css",
                    "/webjars/stomp__stompjs/7.2.1/bundles/stomp.umd.min.js", "/dashboard.json",
                    "/observe/health", "/observe/metrics", "/no-such-page", "/stomp")) {
                HttpResponse<String> r = ObservabilityTest.get(app, path);
                assertThat(path + " " + r.statusCode(), r.headers().firstValue("Content-Security-Policy").orElse(null), is(CSP));
                assertThat(path, r.headers().firstValue("X-Frame-Options").orElse(null), is("DENY"));
                assertThat(path, r.headers().firstValue("Referrer-Policy").orElse(null), is("no-referrer"));
            }
            assertThat(ObservabilityTest.get(app, "/").statusCode(), is(200));
            assertThat(ObservabilityTest.get(app, "/no-such-page").statusCode(), is(404));
            assertThat(ObservabilityTest.get(app, "/dashboard.json").body(), is("{\"brokerUrls\":[]}"));
            // The page itself has no inline script or style the policy would have to allow.
            String page = ObservabilityTest.get(app, "/").body();
            assertThat(page.contains("style=\""), is(false));
            assertThat(page.replaceAll("<script src=\"[^\"]+\"></script>", "").contains("<script"), is(false));
        } finally {
            app.stop();
        }
    }

    @Test
    void configuredBrokersJoinConnectSrcAndTheDashboardsList() throws Exception {
        Application app = TestBroker.start("dashboard.broker-urls.0", "wss://broker.example.com/stomp",
                "dashboard.broker-urls.1", "ws://127.0.0.1:9/stomp");
        try {
            HttpResponse<String> r = ObservabilityTest.get(app, "/");
            assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow(),
                    containsString("; connect-src 'self' wss://broker.example.com/stomp ws://127.0.0.1:9/stomp;"));
            assertThat(ObservabilityTest.get(app, "/dashboard.json").body(),
                    is("{\"brokerUrls\":[\"wss://broker.example.com/stomp\",\"ws://127.0.0.1:9/stomp\"]}"));
        } finally {
            app.stop();
        }
    }

    @Test
    void aBrokerUrlThatCouldBendThePolicyRefusesToStart() {
        for (String bad : List.of("https://broker.example.com/stomp", "wss://a.example; script-src *", "*",
                "wss://broker.example.com/stomp 'unsafe-inline'", "ws://\"x\"/")) {
            Application.StartupException e = assertThrows(Application.StartupException.class,
                    () -> TestBroker.start("dashboard.broker-urls.0", bad), bad);
            assertThat(e.getMessage(), containsString("dashboard.broker-urls"));
        }
    }
}
