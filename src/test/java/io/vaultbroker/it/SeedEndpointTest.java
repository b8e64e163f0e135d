package io.vaultbroker.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seed-compatible endpoint {@code /ws/{pubkey}?access_token=…}: plain JSON, as the seed's
 * JavaScript example reads it.
 */
class SeedEndpointTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String TS = "\"timestamp\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\"";
    private static Application app;

    @BeforeAll
    static void start() throws Exception {
        app = TestBroker.start();
    }

    @AfterAll
    static void stop() {
        app.stop();
    }

    @Test
    void welcomeThenEveryEventOfTheUserWithItsIdThenResume() throws Exception {
        String owner = TestBroker.pubkey();
        String token = TestBroker.userToken(owner);
        List<String> logged = new ArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                synchronized (logged) {
                    logged.add(String.valueOf(r.getMessage()) + r.getThrown());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger root = Logger.getLogger("");
        root.addHandler(capture);
        long txId;
        try (JsonClient c = JsonClient.open(uri(owner, "access_token=" + token))) {
            assertMatches(c.next(), ("\\{\"event\":\"welcome\",\"data\":\\{\"owner\":\"" + owner
                    + "\",\"server\":\"vault-broker/[^\"]+\"\\}," + TS + "\\}"));
            assertMatches(c.next(), ("\\{\"event\":\"health_update\",\"data\":\\{\"status\":\"(ok|degraded)\","
                    + "\"reason\":\"[^\"]*\",\"lagMs\":\\d+\\}," + TS + "\\}"));

            long balId = TestDb.insert("balance_update", owner,
                    "{\"owner\":\"" + owner + "\",\"totalBalance\":123456789012345678901234567890,\"lockedBalance\":0.10}");
            assertThat(c.nextRow(), is(expected(balId)));
            txId = TestDb.insert("transaction_confirmed", owner, "{\"transactionId\":\"a73028b9\",\"amount\":100000000}");
            assertThat(c.nextRow(), is(expected(txId)));
            // Another user's event and an admin event never reach this socket.
            TestDb.insert("balance_update", TestBroker.pubkey(), "{}");
            TestDb.insert("tvl_update", null, "{\"tvl\":1}");
            long lockId = TestDb.insert("collateral_locked", owner, "{\"amount\":5}");
            assertThat(c.nextRow(), is(expected(lockId)));

            // resume_after: what came after the balance row, on both destinations, before live events.
            try (JsonClient r = JsonClient.open(uri(owner, "resume_after=" + balId + "&access_token=" + token))) {
                List<String> got = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    got.add(r.next());
                }
                assertTrue(got.getFirst().startsWith("{\"event\":\"welcome\""), got.toString());
                assertTrue(got.contains(expected(txId)), got.toString());
                assertTrue(got.contains(expected(lockId)), got.toString());
                assertTrue(got.stream().anyMatch(m -> m.startsWith("{\"event\":\"health_update\"")), got.toString());
                assertFalse(got.contains(expected(balId)), got.toString());
                assertTrue(got.indexOf(expected(txId)) < got.indexOf(expected(lockId)),
                        "the tx row and the later balance-destination row arrive in id order: " + got);
                r.closeNormally();
            }
            c.closeNormally();
            // The close line is written when the server notices the sockets are gone.
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (System.nanoTime() < deadline) {
                synchronized (logged) {
                    if (logged.stream().anyMatch(l -> l.contains("closed: subject " + owner))) {
                        break;
                    }
                }
                Thread.sleep(20);
            }
        } finally {
            root.removeHandler(capture);
        }
        synchronized (logged) {
            assertTrue(logged.stream().anyMatch(l -> l.contains("closed: subject " + owner) && l.contains("(json)")),
                    logged.toString());
            assertTrue(logged.stream().noneMatch(l -> l.contains(token) || l.contains("access_token")), logged.toString());
        }
    }

    @Test
    void anAdminMayWatchAnyUser() throws Exception {
        String owner = TestBroker.pubkey();
        try (JsonClient c = JsonClient.open(uri(owner, "access_token=" + TestBroker.adminToken()))) {
            assertTrue(c.next().startsWith("{\"event\":\"welcome\""));
        }
    }

    @Test
    void aBadOrMissingTokenOrAnotherUsersTokenIsClosedWith1008() throws Exception {
        String owner = TestBroker.pubkey();
        for (String query : List.of("", "access_token=nonsense", "access_token=" + TestBroker.userToken(TestBroker.pubkey()),
                "access_token=" + TestBroker.userToken(owner) + "&resume_after=abc")) {
            try (JsonClient c = JsonClient.open(uri(owner, query))) {
                assertThat(query, c.awaitClose(), is(1008));
                assertThat(c.messages.size(), is(0));
            }
        }
    }

    @Test
    void aPathThatIsNoPubkeyIsRefusedAtTheUpgrade() {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> JsonClient.open(URI.create("ws://127.0.0.1:" + app.port() + "/ws/not-a-pubkey?access_token=x")));
        assertTrue(e.getCause() instanceof java.net.http.WebSocketHandshakeException, e.toString());
    }

    @Test
    void aSlowConsumerIsClosedWith1013() throws Exception {
        Application small = TestBroker.start("limits.outbox-frames", "10", "limits.outbox-bytes", "200000");
        try {
            String owner = TestBroker.pubkey();
            try (JsonClient c = JsonClient.open(URI.create("ws://127.0.0.1:" + small.port() + "/ws/" + owner
                    + "?access_token=" + TestBroker.userToken(owner)))) {
                c.next();
                c.stopReading();
                String big = "x".repeat(32 * 1024);
                try (Connection db = TestDb.connect()) {
                    db.setAutoCommit(false);
                    for (int i = 0; i < 400; i++) {
                        TestDb.insert(db, "transaction_confirmed", owner, "{\"pad\":\"" + big + "\"}");
                    }
                    db.commit();
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (small.broker().stats().slowConsumers() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(small.broker().stats().slowConsumers(), is(1L));
                c.readAll();
                assertThat(c.awaitClose(), is(1013));
            }
        } finally {
            small.stop();
        }
    }

    private static void assertMatches(String actual, String regex) {
        assertTrue(actual.matches(regex), actual + " does not match " + regex);
    }

    private static URI uri(String owner, String query) {
        return URI.create("ws://127.0.0.1:" + app.port() + "/ws/" + owner + (query.isEmpty() ? "" : "?" + query));
    }

    /** The seed's envelope plus the row id, exactly as stored. */
    private static String expected(long id) throws Exception {
        try (Connection c = TestDb.connect();
             PreparedStatement ps = c.prepareStatement("SELECT event_type, payload::text,"
                     + " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM vault_events WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                return "{\"event\":\"" + rs.getString(1) + "\",\"data\":" + rs.getString(2) + ",\"timestamp\":\""
                        + rs.getString(3) + "\",\"id\":" + id + "}";
            }
        }
    }

    /** A plain WebSocket client reading one JSON per message, like a browser's. */
    static final class JsonClient implements WebSocket.Listener, AutoCloseable {
        final LinkedBlockingQueue<String> messages = new LinkedBlockingQueue<>();
        private final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();
        private volatile boolean reading = true;
        private WebSocket ws;

        static JsonClient open(URI uri) throws Exception {
            JsonClient c = new JsonClient();
            c.ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(uri, c).get(10, TimeUnit.SECONDS);
            return c;
        }

        String next() throws InterruptedException {
            String m = messages.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (m == null) {
                throw new AssertionError("no message within " + WAIT);
            }
            return m;
        }

        /** The next message that is not a health_update (the status may change while a test runs). */
        String nextRow() throws InterruptedException {
            String m;
            do {
                m = next();
            } while (m.startsWith("{\"event\":\"health_update\""));
            return m;
        }

        int awaitClose() throws Exception {
            return closed.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }

        void stopReading() {
            reading = false;
        }

        void readAll() {
            reading = true;
            ws.request(Long.MAX_VALUE);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                messages.add(partial.toString());
                partial.setLength(0);
            }
            if (reading) {
                webSocket.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(1006);
        }

        void closeNormally() {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
        }

        @Override
        public void close() {
            ws.abort();
        }
    }
}
