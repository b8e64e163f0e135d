package io.vaultbroker.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every limit over a real WebSocket, and floods on loopback (bounded in count and time), each
 * while an honest session keeps receiving its events.
 */
class LimitsEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int PER_ADDRESS = 50;
    private static Application app;
    private static String honestKey;
    private static StompTestClient honest;

    @BeforeAll
    static void start() throws Exception {
        app = TestBroker.start("limits.sessions-per-subject", "2", "stomp.connect-timeout", "PT1S",
                "limits.connections-per-address", Integer.toString(PER_ADDRESS));
        honestKey = TestBroker.pubkey();
        honest = StompTestClient.connect(app.port(), TestBroker.userToken(honestKey));
        honest.subscribe("b", "/user/" + honestKey + "/balance");
    }

    @AfterAll
    static void stop() {
        honest.close();
        app.stop();
    }

    /** The honest session still gets its next event. */
    private static void honestStillServed() throws Exception {
        honestStillServed(honest, honestKey);
    }

    static void honestStillServed(StompTestClient c, String key) throws Exception {
        long id = TestDb.insert("balance_update", key, "{\"honest\":true}");
        StompTestClient.Received m = c.collectUntil(l -> !l.isEmpty()
                && l.get(l.size() - 1).header("message-id") != null
                && l.get(l.size() - 1).header("message-id").equals(Long.toString(id)), WAIT)
                .stream().reduce((x, y) -> y).orElseThrow(() -> new AssertionError("honest session got nothing"));
        assertThat(m.header("message-id"), is(Long.toString(id)));
    }

    @Test
    void sixtyFifthSubscriptionIsRefused() throws Exception {
        String pk = TestBroker.pubkey();
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(pk))) {
            for (int i = 0; i < 64; i++) {
                c.subscribe("s" + i, "/user/" + pk + "/tx");
            }
            c.send(StompFrame.of(StompCommand.SUBSCRIBE, StompHeaders.of("id", "s64", "destination", "/user/" + pk + "/tx")));
            StompTestClient.Received e = c.next(WAIT);
            assertThat(e.command(), is(StompCommand.ERROR));
            assertThat(e.header("message"), is("too many subscriptions"));
            assertTrue(c.awaitClosed(WAIT));
        }
        honestStillServed();
    }

    @Test
    void thirdSessionOfASubjectIsRefused() throws Exception {
        String pk = TestBroker.pubkey();
        try (StompTestClient one = StompTestClient.connect(app.port(), TestBroker.userToken(pk));
             StompTestClient two = StompTestClient.connect(app.port(), TestBroker.userToken(pk));
             StompTestClient three = StompTestClient.open(app.port())) {
            three.send(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2", "host", "localhost",
                    "passcode", TestBroker.userToken(pk))));
            StompTestClient.Received e = three.next(WAIT);
            assertThat(e.command(), is(StompCommand.ERROR));
            assertThat(e.header("message"), is("too many sessions"));
            assertTrue(three.awaitClosed(WAIT));
            one.subscribe("t", "/user/" + pk + "/tx");
            two.subscribe("t", "/user/" + pk + "/tx");
        }
        // Closing the two frees their places.
        assertTrue(SecurityEndToEndTest.waitFor(() -> {
            try (StompTestClient again = StompTestClient.connect(app.port(), TestBroker.userToken(pk))) {
                return true;
            } catch (Throwable t) {
                return false;
            }
        }));
        honestStillServed();
    }

    @Test
    void noConnectWithinTheTimeoutIsClosed() throws Exception {
        try (StompTestClient idle = StompTestClient.open(app.port())) {
            long t0 = System.nanoTime();
            StompTestClient.Received e = idle.next(WAIT);
            assertThat(e.header("message"), is("connect timeout"));
            assertTrue(idle.awaitClosed(WAIT));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat("closed after PT1S, give or take the 1 s tick", ms, lessThanOrEqualTo(3000L));
        }
        honestStillServed();
    }

    @Test
    void floodOfUnauthenticatedConnectionsIsRefusedPerAddress() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        int n = 200;
        List<CompletableFuture<Integer>> closes = new ArrayList<>();
        List<CompletableFuture<WebSocket>> opens = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            CompletableFuture<Integer> closed = new CompletableFuture<>();
            closes.add(closed);
            opens.add(http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + app.port() + "/stomp"),
                    new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
                            closed.complete(code);
                            return null;
                        }

                        @Override
                        public void onError(WebSocket ws, Throwable error) {
                            closed.complete(1006);
                        }
                    }).whenComplete((ws, err) -> {
                        if (err != null) {
                            closed.complete(-1);
                        }
                    }));
        }
        int refused = 0;
        int timedOut = 0;
        java.util.Map<Integer, Integer> codes = new java.util.TreeMap<>();
        for (CompletableFuture<Integer> c : closes) {
            // Refused ones close at once; admitted ones when the 1 s connect timeout passes.
            int code = c.get(20, TimeUnit.SECONDS);
            codes.merge(code, 1, Integer::sum);
            if (code == 1008 || code == -1) {
                refused++;
            } else {
                timedOut++;
            }
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        for (CompletableFuture<WebSocket> o : opens) {
            o.thenAccept(WebSocket::abort);
        }
        System.out.printf("flood: %d connections from one address in %d ms: %d refused, %d admitted then closed "
                + "(connect timeout); close codes %s%n", n, ms, refused, timedOut, codes);
        // The honest session left the count when it was CONNECTED; at most 50 fit at once.
        assertThat(refused, greaterThanOrEqualTo(n - PER_ADDRESS));
        honestStillServed();
    }

    @Test
    void floodOfSubscriptions() throws Exception {
        List<StompTestClient> clients = new ArrayList<>();
        try {
            for (int s = 0; s < 10; s++) {
                String pk = TestBroker.pubkey();
                StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(pk));
                clients.add(c);
                StringBuilder burst = new StringBuilder();
                for (int i = 0; i < 64; i++) {
                    burst.append(io.vaultbroker.stomp.StompEncoder.encode(StompFrame.of(StompCommand.SUBSCRIBE,
                            StompHeaders.of("id", "h" + i, "destination", "/system/health"))));
                }
                c.sendRaw(burst.toString());
            }
            honestStillServed();
        } finally {
            clients.forEach(StompTestClient::close);
        }
    }

    @Test
    void aTenMebibyteFrameIsClosedWith1009() throws Exception {
        try (RawWs raw = RawWs.upgrade(app.port(), "/stomp")) {
            assertEquals(101, raw.status());
            raw.frameHeader(10L * 1024 * 1024);
            try {
                raw.write(new byte[64 * 1024]);
            } catch (java.io.IOException ignored) {
                // the server may already have closed
            }
            assertEquals(1009, raw.awaitCloseCode(WAIT));
        }
        honestStillServed();
    }

    @Test
    void aTenMebibyteMessageFromTheJdkClientIsRefused() throws Exception {
        // The JDK client cuts a large message into frames below the transport limit, so the
        // STOMP frame limit (64 KiB) is what refuses it.
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(TestBroker.pubkey()))) {
            String big = "SEND\ndestination:/user/x/tx\n\n" + "x".repeat(10 * 1024 * 1024) + "\0";
            try {
                c.socket().sendText(big, true).get(20, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // the server may close while the client is still sending
            }
            assertTrue(c.awaitClosed(WAIT), "closed");
            StompTestClient.Received e = c.poll(Duration.ofMillis(200));
            System.out.printf("10 MiB message via the JDK client: close %d, %s%n", c.closeCode(),
                    e == null ? "no frame" : e.command() + " " + e.header("message"));
        }
        honestStillServed();
    }

    @Test
    void aDroppedConnectionGivesBackItsPlaces() throws Exception {
        // Helidon does not tell the listener when a peer drops TCP without a close frame; the
        // ticker must notice, or dropped sockets would hold their subject's and address's places.
        String pk = TestBroker.pubkey();
        for (int i = 0; i < 3; i++) {
            try (RawWs raw = RawWs.upgrade(app.port(), "/stomp")) {
                String connect = "CONNECT\naccept-version:1.2\nhost:x\npasscode:" + TestBroker.userToken(pk) + "\n\n\0";
                byte[] b = connect.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                raw.frameHeader(b.length);
                raw.write(b);
            }
        }
        // sessions-per-subject is 2: a fresh session connects once the dropped ones are forgotten.
        assertTrue(SecurityEndToEndTest.waitFor(() -> {
            try (StompTestClient again = StompTestClient.connect(app.port(), TestBroker.userToken(pk))) {
                return true;
            } catch (Throwable t) {
                return false;
            }
        }), "the dropped sessions were forgotten");
        honestStillServed();
    }

    @Test
    void sessionLifetimeEndsASession() throws Exception {
        Application short_ = TestBroker.start("limits.session-lifetime", "PT2S");
        try (StompTestClient c = StompTestClient.connect(short_.port(), TestBroker.userToken(TestBroker.pubkey()))) {
            long t0 = System.nanoTime();
            StompTestClient.Received e = c.next(WAIT);
            assertThat(e.command(), is(StompCommand.ERROR));
            assertThat(e.header("message"), is("session expired"));
            assertTrue(c.awaitClosed(WAIT));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertThat(ms, greaterThanOrEqualTo(1500L));
            assertThat(ms, lessThanOrEqualTo(4000L));
        } finally {
            short_.stop();
        }
    }

    @Test
    void sixthUnauthenticatedConnectionFromOneAddressIsRefusedConnectedOnesDoNotCount() throws Exception {
        Application five = TestBroker.start("limits.connections-per-address", "5");
        String pk = TestBroker.pubkey();
        List<StompTestClient> others = new ArrayList<>();
        List<StompTestClient> strangers = new ArrayList<>();
        try (StompTestClient mine = StompTestClient.connect(five.port(), TestBroker.userToken(pk))) {
            mine.subscribe("b", "/user/" + pk + "/balance");
            // Sessions leave the per-address count once CONNECTED: more than five of them is fine.
            for (int i = 0; i < 6; i++) {
                others.add(StompTestClient.connect(five.port(), TestBroker.userToken(TestBroker.pubkey())));
            }
            for (int i = 0; i < 5; i++) {
                strangers.add(StompTestClient.open(five.port()));
            }
            // The sixth connection that has not sent CONNECT is refused at accept: no handshake at all.
            assertThrows(Exception.class, () -> StompTestClient.open(five.port()).close());
            honestStillServed(mine, pk);
            strangers.remove(0).close();
            // A place is free again once the server has seen the close.
            assertTrue(SecurityEndToEndTest.waitFor(() -> {
                try {
                    strangers.add(StompTestClient.open(five.port()));
                    return true;
                } catch (Throwable t) {
                    return false;
                }
            }));
            honestStillServed(mine, pk);
        } finally {
            others.forEach(StompTestClient::close);
            strangers.forEach(StompTestClient::close);
            five.stop();
        }
    }
}
