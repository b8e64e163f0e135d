package io.vaultbroker.broker;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.vaultbroker.auth.Authenticators;
import io.vaultbroker.feed.EventRow;
import io.vaultbroker.feed.FeedPosition;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompFrame;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The STOMP protocol of one session, without a server: a fake transport records what the session
 * writes, and the router is fed rows directly.
 */
class StompSessionTest {
    private static final String OWNER = "HjxQC5jmM8JQrKmVLz29fvaVU428BQ3NzM7a3uQECt9m";
    private final Broker broker = new Broker(BrokerSettings.defaults("test"),
            Authenticators.create(Config.just(ConfigSources.create(Map.of("mode", "none"))), null, Clock.systemUTC()),
            null);
    private final FakeTransport transport = new FakeTransport();
    private final StompSession session = broker.openStomp(transport, "localhost");

    @AfterEach
    void close() {
        session.onClosed();
    }

    private void in(String... frames) {
        session.onData(String.join("", frames).getBytes(StandardCharsets.UTF_8));
    }

    private StompFrame await(Predicate<StompFrame> p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            for (StompFrame f : transport.frames()) {
                if (p.test(f)) {
                    return f;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no such frame in " + transport.frames());
    }

    private StompFrame awaitCommand(StompCommand c) throws InterruptedException {
        return await(f -> f.command() == c);
    }

    private void connect() throws InterruptedException {
        in("CONNECT\naccept-version:1.2\nlogin:" + OWNER + "\nheart-beat:0,0\n\n\0");
        awaitCommand(StompCommand.CONNECTED);
    }

    @Test
    void theFirstFrameMustBeConnect() throws Exception {
        in("SUBSCRIBE\nid:1\ndestination:/system/health\n\n\0");
        assertThat(awaitCommand(StompCommand.ERROR).header("message"), is("expected CONNECT"));
        assertTrue(transport.awaitClosed());
    }

    @Test
    void versionAndHeartBeatAreNegotiated() throws Exception {
        in("CONNECT\naccept-version:1.0,1.1\nlogin:" + OWNER + "\nheart-beat:5000,20000\n\n\0");
        StompFrame c = awaitCommand(StompCommand.CONNECTED);
        assertThat(c.header("version"), is("1.1"));
        assertThat(c.header("heart-beat"), is("10000,10000"));
        assertThat(c.header("user-name"), is(OWNER));
        assertThat(c.header("server"), is("vault-broker/test"));
    }

    @Test
    void anUnsupportedVersionIsRefused() throws Exception {
        in("CONNECT\naccept-version:2.0\nlogin:x\n\n\0");
        StompFrame e = awaitCommand(StompCommand.ERROR);
        assertThat(e.header("message"), is("unsupported STOMP version"));
        assertThat(e.header("version"), is("1.0,1.1,1.2"));
    }

    @Test
    void aMalformedHeartBeatIsRefused() throws Exception {
        in("CONNECT\naccept-version:1.2\nlogin:x\nheart-beat:soon\n\n\0");
        assertThat(awaitCommand(StompCommand.ERROR).header("message"), is("invalid heart-beat header"));
    }

    @Test
    void framesSplitAndCoalescedAcrossWebSocketMessages() throws Exception {
        String connect = "CONNECT\naccept-version:1.2\nlogin:" + OWNER + "\n\n\0";
        in(connect.substring(0, 7));
        in(connect.substring(7) + "\n\nSUBSCRIBE\nid:a\ndestination:/user/" + OWNER + "/tx\nreceipt:r1\n\n\0"
                + "SUBSCRIBE\nid:b\ndestination:/system/health\nreceipt:r2\n\n\0");
        await(f -> "r1".equals(f.header("receipt-id")));
        await(f -> "r2".equals(f.header("receipt-id")));
        StompFrame health = await(f -> f.command() == StompCommand.MESSAGE);
        assertThat(health.header("destination"), is("/system/health"));
        assertThat(health.header("event"), is("health_update"));
        assertTrue(health.header("message-id").startsWith("h-"));
    }

    @Test
    void subscribeErrorsCarryTheReceiptId() throws Exception {
        connect();
        in("SUBSCRIBE\ndestination:/user/" + OWNER + "/tx\nreceipt:77\n\n\0");
        StompFrame e = awaitCommand(StompCommand.ERROR);
        assertThat(e.header("message"), is("missing id header"));
        assertThat(e.header("receipt-id"), is("77"));
    }

    @Test
    void badSubscriptionsAreRefused() throws Exception {
        String[][] cases = {
            {"id:1\ndestination:/user/" + OWNER + "/tx\nack:sometimes", "invalid ack mode"},
            {"id:1\ndestination:/user/" + OWNER + "/balances", "unknown destination"},
            {"id:1", "missing destination header"},
            {"id:1\ndestination:/user/" + OWNER + "/tx\nx-resume-after:-5", "invalid x-resume-after"},
            {"id:1\ndestination:/user/" + OWNER + "/tx\nx-resume-after:12ab", "invalid x-resume-after"},
        };
        for (String[] c : cases) {
            FakeTransport t = new FakeTransport();
            StompSession s = broker.openStomp(t, "localhost");
            s.onData(("CONNECT\naccept-version:1.2\nlogin:" + OWNER + "\n\n\0SUBSCRIBE\n" + c[0] + "\n\n\0")
                    .getBytes(StandardCharsets.UTF_8));
            assertTrue(t.awaitClosed(), c[1]);
            StompFrame last = t.frames().getLast();
            assertThat(c[0], last.header("message"), is(c[1]));
        }
    }

    @Test
    void ackModesAckFramesAndUnsubscribe() throws Exception {
        connect();
        in("SUBSCRIBE\nid:s\ndestination:/user/" + OWNER + "/tx\nack:client-individual\nreceipt:r\n\n\0");
        await(f -> "r".equals(f.header("receipt-id")));
        broker.router().deliver(List.of(new EventRow(41, "transaction_confirmed", OWNER, "{\"amount\":1}",
                Instant.parse("2025-12-08T21:30:00Z"), false)), new FeedPosition(41, List.of()));
        StompFrame m = awaitCommand(StompCommand.MESSAGE);
        assertThat(m.header("ack"), is("41"));
        assertThat(m.header("message-id"), is("41"));
        assertThat(m.bodyAsString(), is("{\"event\":\"transaction_confirmed\",\"data\":{\"amount\":1},"
                + "\"timestamp\":\"2025-12-08T21:30:00.000Z\"}"));
        in("ACK\nid:41\nreceipt:a\n\n\0");
        await(f -> "a".equals(f.header("receipt-id")));
        in("UNSUBSCRIBE\nid:s\nreceipt:u\n\n\0");
        await(f -> "u".equals(f.header("receipt-id")));
        broker.router().deliver(List.of(new EventRow(42, "transaction_confirmed", OWNER, "{}", Instant.now(), false)),
                new FeedPosition(42, List.of()));
        in("UNSUBSCRIBE\nid:s\n\n\0");
        assertThat(awaitCommand(StompCommand.ERROR).header("message"), is("unknown subscription"));
        assertThat("nothing after UNSUBSCRIBE", transport.frames().stream()
                .filter(f -> "42".equals(f.header("message-id"))).findAny().orElse(null), nullValue());
    }

    @Test
    void sendIsRefusedAsReadOnly() throws Exception {
        connect();
        in("SEND\ndestination:/user/" + OWNER + "/tx\n\n{}\0");
        assertThat(awaitCommand(StompCommand.ERROR).header("message"), is("destinations are read-only"));
        assertTrue(transport.awaitClosed());
    }
}
