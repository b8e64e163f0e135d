package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole path of an event, from a committed row to a MESSAGE frame, through a real WebSocket.
 */
class CoreEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
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
    void insertedRowArrivesAsTheExactMessage() throws Exception {
        String owner = TestBroker.pubkey();
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
            assertThat(c.subprotocol(), is("v12.stomp"));
            c.subscribe("bal", "/user/" + owner + "/balance");
            c.subscribe("tx", "/user/" + owner + "/tx");

            // Amounts above 2^53 and a decimal must reach the client digit for digit.
            String payload = "{\"owner\":\"" + owner + "\",\"totalBalance\":123456789012345678901234567890,"
                    + "\"lockedBalance\":0.10,\"availableBalance\":9007199254740993}";
            long id = TestDb.insert("balance_update", owner, payload);
            StompTestClient.Received m = c.next(WAIT);
            String[] expected = expectedRow(id);

            assertThat(m.command(), is(StompCommand.MESSAGE));
            assertThat(m.header("destination"), is("/user/" + owner + "/balance"));
            assertThat(m.header("subscription"), is("bal"));
            assertThat(m.header("message-id"), is(Long.toString(id)));
            assertThat(m.header("event"), is("balance_update"));
            assertThat(m.header("content-type"), is("application/json"));
            assertThat(m.header("ack"), nullValue());
            String body = "{\"event\":\"balance_update\",\"data\":" + expected[0] + ",\"timestamp\":\"" + expected[1] + "\"}";
            assertThat(m.body(), is(body));
            assertThat(m.header("content-length"), is(Integer.toString(m.frame().body().length)));
            assertTrue(m.body().contains("123456789012345678901234567890") && m.body().contains("9007199254740993"),
                    m.body());

            long txId = TestDb.insert("transaction_confirmed", owner,
                    "{\"transactionId\":\"a73028b9\",\"transactionType\":\"deposit\",\"amount\":100000000}");
            StompTestClient.Received t = c.next(WAIT);
            assertThat(t.header("subscription"), is("tx"));
            assertThat(t.header("destination"), is("/user/" + owner + "/tx"));
            assertThat(t.header("message-id"), is(Long.toString(txId)));
            assertThat(t.header("event"), is("transaction_confirmed"));
        }
    }

    @Test
    void medianCommitToDeliveryOfOneHundredEvents() throws Exception {
        String owner = TestBroker.pubkey();
        List<Long> micros = new ArrayList<>();
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner));
             Connection db = TestDb.connect()) {
            c.subscribe("tx", "/user/" + owner + "/tx");
            for (int i = 0; i < 100; i++) {
                long t0 = System.nanoTime();
                long id = TestDb.insert(db, "transaction_confirmed", owner, "{\"n\":" + i + "}");
                long committed = System.nanoTime();
                StompTestClient.Received m = c.next(WAIT);
                assertThat(m.header("message-id"), is(Long.toString(id)));
                // Autocommit: the commit completes inside the insert; count from its start.
                micros.add((m.nanos() - t0) / 1000);
                assertTrue(m.nanos() >= t0 && committed >= t0);
            }
        }
        Collections.sort(micros);
        long median = micros.get(50);
        System.out.printf("commit-to-delivery over 100 events: median %.2f ms, p90 %.2f ms, max %.2f ms%n",
                median / 1000.0, micros.get(90) / 1000.0, micros.get(99) / 1000.0);
        assertThat("median latency (ms)", median / 1000, lessThan(1000L));
    }

    @Test
    void usersAreIsolated() throws Exception {
        String a = TestBroker.pubkey();
        String b = TestBroker.pubkey();
        try (StompTestClient ca = StompTestClient.connect(app.port(), TestBroker.userToken(a));
             StompTestClient intruder = StompTestClient.connect(app.port(), TestBroker.userToken(a));
             StompTestClient notAdmin = StompTestClient.connect(app.port(), TestBroker.userToken(a))) {
            ca.subscribe("mine", "/user/" + a + "/balance");

            intruder.send(StompFrame.of(StompCommand.SUBSCRIBE, StompHeaders.of("id", "x",
                    "destination", "/user/" + b + "/balance")));
            StompTestClient.Received e = intruder.next(WAIT);
            assertThat(e.command(), is(StompCommand.ERROR));
            assertThat(e.header("message"), is("access denied"));
            assertTrue(intruder.awaitClosed(WAIT), "intruder's socket is closed");

            notAdmin.send(StompFrame.of(StompCommand.SUBSCRIBE, StompHeaders.of("id", "t", "destination", "/admin/tvl")));
            assertThat(notAdmin.next(WAIT).header("message"), is("access denied"));
            assertTrue(notAdmin.awaitClosed(WAIT));

            TestDb.insert("balance_update", b, "{\"who\":\"b\"}");
            long mine = TestDb.insert("balance_update", a, "{\"who\":\"a\"}");
            StompTestClient.Received m = ca.next(WAIT);
            assertThat("A's next message is A's own event, never B's", m.header("message-id"), is(Long.toString(mine)));
            assertThat(ca.poll(Duration.ofMillis(300)), nullValue());
        }
    }

    @Test
    void everyDeviceOfAUserGetsTheSameEvents() throws Exception {
        String owner = TestBroker.pubkey();
        List<StompTestClient> devices = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner));
                c.subscribe("b" + i, "/user/" + owner + "/balance");
                devices.add(c);
            }
            long first = TestDb.insert("collateral_locked", owner, "{\"amount\":5}");
            long second = TestDb.insert("collateral_unlocked", owner, "{\"amount\":5}");
            for (StompTestClient c : devices) {
                assertThat(c.next(WAIT).header("message-id"), is(Long.toString(first)));
                StompTestClient.Received m = c.next(WAIT);
                assertThat(m.header("message-id"), is(Long.toString(second)));
                assertThat(m.header("event"), is("collateral_unlocked"));
            }
        } finally {
            devices.forEach(StompTestClient::close);
        }
    }

    @Test
    void badInputGetsAnErrorAndTheBrokerKeepsServingOthers() throws Exception {
        String owner = TestBroker.pubkey();
        try (StompTestClient honest = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
            honest.subscribe("tx", "/user/" + owner + "/tx");

            try (StompTestClient garbage = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
                garbage.sendRaw("FOO\nbar:baz\n\n\0");
                assertThat(garbage.next(WAIT).header("message"), is("unknown command"));
                assertTrue(garbage.awaitClosed(WAIT));
            }
            try (StompTestClient big = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
                big.sendRaw("SEND\ndestination:/user/" + owner + "/tx\n\n" + "x".repeat(70 * 1024) + "\0");
                assertThat(big.next(WAIT).header("message"), is("frame too large"));
                assertTrue(big.awaitClosed(WAIT));
            }
            try (StompTestClient sender = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
                sender.send(StompFrame.of(StompCommand.SEND, StompHeaders.of("destination", "/user/" + owner + "/tx"), "{}"));
                assertThat(sender.next(WAIT).header("message"), is("destinations are read-only"));
                assertTrue(sender.awaitClosed(WAIT));
            }
            try (StompTestClient wrong = StompTestClient.open(app.port())) {
                wrong.send(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2",
                        "passcode", TestBroker.MINTER.mint(owner, java.util.Set.of(), Duration.ofSeconds(-60)))));
                StompTestClient.Received e = wrong.next(WAIT);
                assertThat(e.command(), is(StompCommand.ERROR));
                assertThat(e.header("message"), is("authentication failed"));
                assertTrue(wrong.awaitClosed(WAIT));
            }
            try (StompTestClient forged = StompTestClient.open(app.port())) {
                forged.send(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2",
                        "passcode", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")));
                assertThat(forged.next(WAIT).header("message"), is("authentication failed"));
            }

            long id = TestDb.insert("transaction_confirmed", owner, "{\"still\":\"served\"}");
            assertThat(honest.next(WAIT).header("message-id"), is(Long.toString(id)));
        }
    }

    @Test
    void receiptsHeartBeatsAndDisconnect() throws Exception {
        String owner = TestBroker.pubkey();
        try (StompTestClient c = StompTestClient.open(app.port())) {
            c.send(StompFrame.of(StompCommand.STOMP, StompHeaders.of("accept-version", "1.1,1.2", "host", "localhost",
                    "passcode", TestBroker.userToken(owner), "heart-beat", "0,1000")));
            StompTestClient.Received connected = c.next(WAIT);
            assertThat(connected.command(), is(StompCommand.CONNECTED));
            assertThat(connected.header("version"), is("1.2"));
            assertThat(connected.header("heart-beat"), is("10000,10000"));
            assertThat(connected.header("user-name"), is(owner));
            assertTrue(connected.header("server").startsWith("vault-broker/"));
            assertTrue(connected.header("session") != null && !connected.header("session").isEmpty());

            c.subscribe("s1", "/user/" + owner + "/tx");
            c.send(StompFrame.of(StompCommand.UNSUBSCRIBE, StompHeaders.of("id", "s1", "receipt", "u1")));
            assertThat(c.next(WAIT).header("receipt-id"), is("u1"));
            c.send(StompFrame.of(StompCommand.DISCONNECT, StompHeaders.of("receipt", "bye")));
            StompTestClient.Received r = c.next(WAIT);
            assertThat(r.command(), is(StompCommand.RECEIPT));
            assertThat(r.header("receipt-id"), is("bye"));
            assertTrue(c.awaitClosed(WAIT));
        }
    }

    @Test
    void aTransactionHeldOpenPastTheGapBoundStallsNobodyAndIsStillDelivered() throws Exception {
        String owner = TestBroker.pubkey();
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner));
             Connection slow = TestDb.connect()) {
            c.subscribe("tx", "/user/" + owner + "/tx");
            slow.setAutoCommit(false);
            long held = TestDb.insert(slow, "transaction_confirmed", owner, "{\"slow\":true}");
            long t0 = System.nanoTime();
            long after = TestDb.insert("transaction_confirmed", owner, "{\"fast\":true}");

            StompTestClient.Received m = c.next(Duration.ofSeconds(15));
            assertThat(m.header("message-id"), is(Long.toString(after)));
            long waitedMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat("held at most about max-gap-wait (3 s in tests)", waitedMs, lessThan(8000L));

            slow.commit();
            StompTestClient.Received late = c.next(WAIT);
            assertThat(late.header("message-id"), is(Long.toString(held)));
            assertThat(late.header("x-late"), is("true"));
        }
    }

    private static String[] expectedRow(long id) throws Exception {
        try (Connection c = TestDb.connect();
             PreparedStatement ps = c.prepareStatement("SELECT payload::text, to_char(created_at AT TIME ZONE 'UTC',"
                     + " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM vault_events WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new String[] {rs.getString(1), rs.getString(2)};
            }
        }
    }
}
