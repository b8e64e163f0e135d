package io.vaultbroker.it;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Client frames and catch-ups per session, at the defaults (burst 1,000 frames; 10 catch-ups a
 * second with a burst of 64, as many as a session may hold subscriptions), on both sides of each limit, over a real WebSocket. Many frames go in one WebSocket
 * message (STOMP allows it), so they arrive at one instant and no refill blurs the bound.
 */
class SessionRatesEndToEndTest {
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

    private static String acks(int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append("ACK\nid:x\nreceipt:a").append(i).append("\n\n\0");
        }
        return sb.toString();
    }

    @Test
    void aBurstUpToTheLimitIsServedAndOnePastItIsTooManyFrames() throws Exception {
        String pk = TestBroker.pubkey();
        try (StompTestClient within = StompTestClient.connect(app.port(), TestBroker.userToken(pk))) {
            // CONNECT took one of the 1,000.
            within.sendRaw(acks(999));
            List<StompTestClient.Received> got = within.collectUntil(l -> l.size() == 999, WAIT);
            assertThat(got.size(), is(999));
            assertTrue(got.stream().allMatch(r -> r.command() == StompCommand.RECEIPT), "only RECEIPTs");
            within.subscribe("b", "/user/" + pk + "/balance");
            LimitsEndToEndTest.honestStillServed(within, pk);
        }
        try (StompTestClient over = StompTestClient.connect(app.port(), TestBroker.userToken(TestBroker.pubkey()))) {
            over.sendRaw(acks(1100));
            List<StompTestClient.Received> got = over.collectUntil(
                    l -> !l.isEmpty() && l.getLast().command() == StompCommand.ERROR, WAIT);
            StompTestClient.Received last = got.getLast();
            assertThat(last.command(), is(StompCommand.ERROR));
            assertThat(last.header("message"), is("too many frames"));
            // None after the burst was answered; what was still queued for this client went
            // unwritten, its ERROR first (a flooder reads nothing anyway).
            assertThat(got.size() - 1, lessThanOrEqualTo(1005));
            for (StompTestClient.Received r : got.subList(0, got.size() - 1)) {
                assertThat(r.command(), is(StompCommand.RECEIPT));
                assertThat("receipt " + r.header("receipt-id"), Integer.parseInt(r.header("receipt-id").substring(1)),
                        lessThan(1000));
            }
            assertTrue(over.awaitClosed(WAIT));
        }
    }

    /** Ten SUBSCRIBE/UNSUBSCRIBE pairs that need a snapshot, and forty plain pairs that do not. */
    private static final int CATCH_UP_BURST = 64;

    private static String burstOfCatchUps(String pk) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < CATCH_UP_BURST; i++) {
            sb.append("SUBSCRIBE\nid:s").append(i).append("\ndestination:/user/").append(pk).append("/balance\nreceipt:s")
                    .append(i).append("\n\n\0UNSUBSCRIBE\nid:s").append(i).append("\nreceipt:u").append(i).append("\n\n\0");
        }
        // Plain subscriptions (no snapshot, no replay) are no catch-ups: only the frame rate counts them.
        for (int i = 0; i < 40; i++) {
            sb.append("SUBSCRIBE\nid:t").append(i).append("\ndestination:/user/").append(pk).append("/tx\n\n\0")
                    .append("UNSUBSCRIBE\nid:t").append(i).append("\n\n\0");
        }
        return sb.toString();
    }

    @Test
    void aBurstOfCatchUpsAtOnceIsServedAndOneMoreIsTooManyCatchUps() throws Exception {
        String pk = TestBroker.pubkey();
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(pk))) {
            c.sendRaw(burstOfCatchUps(pk));
            List<StompTestClient.Received> got = c.collectUntil(l -> l.size() == 2 * CATCH_UP_BURST
                    || l.stream().anyMatch(r -> r.command() == StompCommand.ERROR), WAIT);
            assertTrue(got.stream().allMatch(r -> r.command() == StompCommand.RECEIPT), "RECEIPTs only, no ERROR: " + got);
            assertThat(got.size(), is(2 * CATCH_UP_BURST));
            // Still served: a further plain subscription gets its receipt and rows.
            c.subscribe("b", "/user/" + pk + "/tx");
            long id = TestDb.insert("transaction_confirmed", pk, "{\"honest\":true}");
            assertTrue(c.collectUntil(l -> !l.isEmpty() && Long.toString(id).equals(l.getLast().header("message-id")), WAIT)
                    .stream().anyMatch(r -> Long.toString(id).equals(r.header("message-id"))), "row received");
        }
        String other = TestBroker.pubkey();
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(other))) {
            // One more in the same message, at the same instant.
            c.sendRaw(burstOfCatchUps(other) + "SUBSCRIBE\nid:sx\ndestination:/user/" + other + "/balance\nreceipt:sx\n\n\0");
            List<StompTestClient.Received> got = c.collectUntil(
                    l -> !l.isEmpty() && l.getLast().command() == StompCommand.ERROR, WAIT);
            assertThat(got.size(), is(2 * CATCH_UP_BURST + 1));
            assertThat(got.getLast().command(), is(StompCommand.ERROR));
            assertThat(got.getLast().header("message"), is("too many catch-ups"));
            assertThat(got.getLast().header("receipt-id"), is("sx"));
            assertTrue(c.awaitClosed(WAIT));
        }
    }

    @Test
    void bytesUpToTheBurstAreServedAndPastItAreTooManyFrames() throws Exception {
        // 16 ACKs with a 3,900-character receipt make one WebSocket message just under 63 KB
        // (within the 64 KiB frame limit); four of them stay under the 256 KiB burst, a fifth passes it.
        String pad = "p".repeat(3900);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            sb.append("ACK\nid:x\nreceipt:").append(pad).append(i).append("\n\n\0");
        }
        String message = sb.toString();
        assertTrue(message.length() * 4 < 262_144 && message.length() * 5 > 262_144 + 32_768, "sizes: " + message.length());
        String pk = TestBroker.pubkey();
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(pk))) {
            for (int m = 0; m < 4; m++) {
                c.sendRaw(message);
            }
            List<StompTestClient.Received> got = c.collectUntil(l -> l.size() == 64
                    || l.stream().anyMatch(r -> r.command() == StompCommand.ERROR), WAIT);
            assertTrue(got.stream().allMatch(r -> r.command() == StompCommand.RECEIPT), "RECEIPTs only: " + got.size());
            assertThat(got.size(), is(64));
            c.sendRaw(message);
            List<StompTestClient.Received> more = c.collectUntil(
                    l -> !l.isEmpty() && l.getLast().command() == StompCommand.ERROR, WAIT);
            assertThat(more.getLast().command(), is(StompCommand.ERROR));
            assertThat(more.getLast().header("message"), is("too many frames"));
            assertThat("nothing of the fifth message was answered", more.size(), is(1));
            assertTrue(c.awaitClosed(WAIT));
        }
    }
}
