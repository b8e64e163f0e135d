package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that stops reading is cut off at its outbox bound; a fast client is not slowed.
 */
class SlowConsumerTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static Application app;

    @BeforeAll
    static void start() throws Exception {
        // A small bound, so the test fills it after the TCP buffers without inserting gigabytes.
        app = TestBroker.start("limits.outbox-frames", "200");
    }

    @AfterAll
    static void stop() {
        app.stop();
    }

    @Test
    void aStalledClientIsCutOffAndAFastOneKeepsItsLatency() throws Exception {
        String slowOwner = TestBroker.pubkey();
        String fastOwner = TestBroker.pubkey();
        try (StompTestClient slow = StompTestClient.connect(app.port(), TestBroker.userToken(slowOwner));
             StompTestClient fast = StompTestClient.connect(app.port(), TestBroker.userToken(fastOwner));
             Connection db = TestDb.connect();
             PreparedStatement flood = db.prepareStatement("INSERT INTO vault_events (event_type, owner, payload)"
                     + " SELECT 'transaction_confirmed', ?, jsonb_build_object('n', g, 'pad', repeat('x', 32000))"
                     + " FROM generate_series(1, 50) g")) {
            slow.subscribe("tx", "/user/" + slowOwner + "/tx");
            fast.subscribe("tx", "/user/" + fastOwner + "/tx");
            List<Long> before = latencies(fast, db, fastOwner, 50);

            slow.stopReading();
            long cutOffs = app.broker().stats().slowConsumers();
            int sessions = app.broker().stats().sessions();
            List<Long> during = new ArrayList<>();
            long floodStart = System.nanoTime();
            long floodEnd = 0;
            // 50 rows of 32 KB per round; a bounded number of rounds (at most 40 MB in all).
            for (int round = 0; round < 25 && app.broker().stats().slowConsumers() == cutOffs; round++) {
                flood.setString(1, slowOwner);
                flood.executeUpdate();
                floodEnd = System.nanoTime();
                during.addAll(latencies(fast, db, fastOwner, 4));
            }
            assertThat("the stalled client was cut off as a slow consumer",
                    app.broker().stats().slowConsumers(), is(cutOffs + 1));
            long cutOffAt = System.nanoTime();
            // The socket is dropped within the close grace (5 s) even though the client reads nothing.
            long deadline = System.nanoTime() + Duration.ofSeconds(8).toNanos();
            while (app.broker().stats().sessions() >= sessions && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat("the session is gone", app.broker().stats().sessions(), is(sessions - 1));
            // Still not reading: let the close grace (5 s) pass while the fast client keeps going,
            // then look: the server must have dropped the socket by itself.
            long graceEnd = cutOffAt + Duration.ofMillis(5500).toNanos();
            while (System.nanoTime() < graceEnd) {
                during.addAll(latencies(fast, db, fastOwner, 1));
                Thread.sleep(50);
            }
            slow.resumeReading();
            assertTrue(slow.awaitClosed(Duration.ofSeconds(2)), "the slow client's socket was closed");
            long closedMs = (System.nanoTime() - cutOffAt) / 1_000_000;
            int code = slow.closeCode();

            long p95Before = Messages.percentile(before, 0.95);
            long p95During = Messages.percentile(during, 0.95);
            System.out.printf("slow consumer: cut off %.1f s after the flood began, socket closed (code %d) when looked at %d ms after; fast client p95 %.2f ms"
                            + " before, %.2f ms meanwhile (%d samples)%n", (cutOffAt - floodStart) / 1e9, code, closedMs,
                    p95Before / 1000.0, p95During / 1000.0, during.size());
            assertTrue(floodEnd > 0);
            assertThat("fast client's p95 (µs) stays in its normal range", p95During,
                    lessThan(Math.max(10 * p95Before, 100_000L)));
        }
    }

    // Commit-to-delivery latencies (µs) of single rows to the fast client.
    private static List<Long> latencies(StompTestClient c, Connection db, String owner, int n) throws Exception {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            long id = TestDb.insert(db, "transaction_confirmed", owner, "{\"i\":" + i + "}");
            StompTestClient.Received m = c.next(WAIT);
            assertThat(m.header("message-id"), is(Long.toString(id)));
            out.add((m.nanos() - t0) / 1000);
        }
        return out;
    }
}
