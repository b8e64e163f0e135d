package io.vaultbroker.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.auth.TokenMinter;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * /observe/metrics shows what the traffic did; /observe/health follows the database and the feed.
 */
class ObservabilityTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void metricsCountTheTraffic() throws Exception {
        Application app = TestBroker.start("limits.subscriptions-per-session", "2");
        try {
            String owner = TestBroker.pubkey();
            try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
                c.subscribe("bal", "/user/" + owner + "/balance");
                c.subscribe("tx", "/user/" + owner + "/tx");
                TestDb.insert("balance_update", owner, "{\"totalBalance\":1}");
                TestDb.insert("transaction_confirmed", owner, "{\"amount\":1}");
                assertThat(c.next(WAIT).command(), is(StompCommand.MESSAGE));
                assertThat(c.next(WAIT).command(), is(StompCommand.MESSAGE));

                // A token signed with another secret: one auth failure.
                String forged = new TokenMinter("another-secret-that-is-long-enough-for-hs256".getBytes())
                        .mint(owner, Set.of(), Duration.ofHours(1));
                try (StompTestClient bad = StompTestClient.open(app.port())) {
                    bad.send(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2",
                            "host", "localhost", "passcode", forged)));
                    assertThat(bad.next(WAIT).header("message"), is("authentication failed"));
                }
                // A third subscription over the limit of 2: one limit hit.
                try (StompTestClient greedy = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
                    greedy.subscribe("a", "/user/" + owner + "/tx");
                    // A resume id at the head: no snapshot, nothing to replay, so no MESSAGE.
                    greedy.subscribe("b", "/user/" + owner + "/balance", "x-resume-after", Long.toString(Long.MAX_VALUE));
                    greedy.send(StompFrame.of(StompCommand.SUBSCRIBE, StompHeaders.of("id", "c",
                            "destination", "/system/health")));
                    assertThat(greedy.next(WAIT).header("message"), is("too many subscriptions"));
                }
                waitFor(app, "vault_broker_sessions", 1);

                String m = get(app, "/observe/metrics").body();
                assertThat(value(m, "vault_broker_sessions"), is(1.0));
                // Not exactly 1: connections the server closed stay counted until Helidon reports their close.
                assertThat(value(m, "vault_broker_connections"), greaterThanOrEqualTo(1.0));
                assertThat(value(m, "vault_broker_subscriptions{kind=\"user_balance\""), is(1.0));
                assertThat(value(m, "vault_broker_subscriptions{kind=\"user_tx\""), is(1.0));
                assertThat(value(m, "vault_broker_subscriptions{kind=\"admin_tvl\""), is(0.0));
                // Frames in: CONNECT + 2 SUBSCRIBE, the forged CONNECT, CONNECT + 3 SUBSCRIBE.
                assertThat(value(m, "vault_broker_frames_in_total"), is(8.0));
                // Frames out: CONNECTED + 2 RECEIPT + 2 MESSAGE, ERROR, CONNECTED + 2 RECEIPT + ERROR.
                assertThat(value(m, "vault_broker_frames_out_total"), is(10.0));
                // Only this broker's one subscriber per row counts as delivered (others write rows too).
                assertThat(value(m, "vault_broker_messages_delivered_total"), is(2.0));
                assertThat(value(m, "vault_broker_events_routed_total"), greaterThanOrEqualTo(2.0));
                assertThat(value(m, "vault_broker_auth_failures_total{credential=\"jwt\""), is(1.0));
                assertThat(value(m, "vault_broker_limit_hits_total{limit=\"subscriptions-per-session\""), is(1.0));
                assertThat(value(m, "vault_broker_slow_consumer_closes_total"), is(0.0));
                assertThat(value(m, "vault_broker_feed_up"), is(1.0));
                assertThat(value(m, "vault_broker_feed_polls_total"), greaterThanOrEqualTo(1.0));
                assertThat(value(m, "vault_broker_feed_queries_total"), greaterThanOrEqualTo(1.0));
                assertTrue(value(m, "vault_broker_feed_poll_time_seconds") > 0, "poll time");
                assertThat(value(m, "vault_broker_feed_lag_rows"), greaterThanOrEqualTo(0.0));
                assertThat(value(m, "vault_broker_feed_gaps_skipped_total{cause=\"overdue\""), greaterThanOrEqualTo(0.0));
            }
            HttpResponse<String> live = get(app, "/observe/health/live");
            assertThat(live.statusCode(), is(200));
            assertThat(live.body(), containsString("\"name\":\"broker\""));
            HttpResponse<String> ready = get(app, "/observe/health/ready");
            assertThat(ready.body(), ready.statusCode(), is(200));
            assertThat(ready.body(), containsString("{\"name\":\"database\",\"status\":\"UP\""));
            assertThat(ready.body(), containsString("{\"name\":\"feed\",\"status\":\"UP\""));
        } finally {
            app.stop();
        }
    }

    @Test
    void readinessGoesDownWithTheDatabaseAndComesBack() throws Exception {
        TestDb.ensure();
        String name = "vault_broker_ops_health_" + Long.toHexString(System.nanoTime());
        try (Connection admin = admin(); Statement s = admin.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        Application app = null;
        try {
            app = TestBroker.start("db.connection.url", "jdbc:postgresql://" + TestDb.HOST + ":5432/" + name,
                    "health.db-timeout", "PT1S");
            assertThat(get(app, "/observe/health/ready").statusCode(), is(200));

            try (Connection admin = admin(); Statement s = admin.createStatement()) {
                s.execute("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false");
                s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'");
            }
            HttpResponse<String> down = waitForStatus(app, 503, Duration.ofSeconds(30));
            assertThat(down.body(), containsString("{\"name\":\"database\",\"status\":\"DOWN\""));
            assertThat(waitForStatusBody(app, "{\"name\":\"feed\",\"status\":\"DOWN\"", Duration.ofSeconds(30)),
                    is(true));
            assertThat(value(get(app, "/observe/metrics").body(), "vault_broker_feed_up"), is(0.0));
            assertThat(get(app, "/observe/health/live").statusCode(), is(200));

            try (Connection admin = admin(); Statement s = admin.createStatement()) {
                s.execute("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS true");
            }
            HttpResponse<String> up = waitForStatus(app, 200, Duration.ofSeconds(30));
            assertThat(up.body(), containsString("{\"name\":\"feed\",\"status\":\"UP\""));
        } finally {
            if (app != null) {
                app.stop();
            }
            try (Connection admin = admin(); Statement s = admin.createStatement()) {
                s.execute("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS true");
                s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            }
        }
    }

    private static Connection admin() throws Exception {
        return DriverManager.getConnection("jdbc:postgresql://" + TestDb.HOST + ":5432/postgres", "postgres", "");
    }

    static HttpResponse<String> get(Application app, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> waitForStatus(Application app, int status, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpResponse<String> r;
        do {
            r = get(app, "/observe/health/ready");
            if (r.statusCode() == status) {
                return r;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("readiness never answered " + status + "; last: " + r.statusCode() + " " + r.body());
    }

    private static boolean waitForStatusBody(Application app, String fragment, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            if (get(app, "/observe/health/ready").body().contains(fragment)) {
                return true;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        return false;
    }

    private static void waitFor(Application app, String meter, double expected) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        double v;
        do {
            v = value(get(app, "/observe/metrics").body(), meter);
            if (v == expected) {
                return;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError(meter + " stayed " + v + ", expected " + expected);
    }

    /** The value of the first series whose line starts with {@code series} ({@code name} or {@code name{tag="v"}). */
    static double value(String prometheus, String series) {
        String head = series.contains("{") ? Pattern.quote(series) + "[^}]*\\}" : Pattern.quote(series) + "(\\{[^}]*\\})?";
        Matcher m = Pattern.compile("(?m)^" + head + " (\\S+)$").matcher(prometheus);
        if (!m.find()) {
            throw new AssertionError("no series " + series + " in\n" + prometheus);
        }
        return Double.parseDouble(m.group(m.groupCount()));
    }
}
