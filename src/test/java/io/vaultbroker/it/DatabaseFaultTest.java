package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker's connections are killed, then the database refuses connections for a while:
 * health goes degraded and back to ok, and every committed row is delivered once, in order.
 * Runs in a database of its own.
 */
class DatabaseFaultTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void killedConnectionsAndARefusingDatabaseLoseNothing() throws Exception {
        try (ScratchDb db = ScratchDb.create(false)) {
            Application app = TestBroker.start("db.connection.url", db.url, "feed.poll-interval", "PT1S");
            String owner = TestBroker.pubkey();
            AtomicBoolean producing = new AtomicBoolean(true);
            AtomicLong attempts = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.adminToken())) {
                c.subscribe("h", "/system/health");
                assertTrue(c.next(WAIT).body().contains("\"status\":\"ok\""));
                c.subscribe("tx", "/user/" + owner + "/tx");
                List<Future<?>> producers = new ArrayList<>();
                for (int p = 0; p < 2; p++) {
                    producers.add(pool.submit(() -> produce(db, owner, producing, attempts)));
                }
                awaitAttempts(attempts, 50);

                // 1. Kill the broker's backends (feed and pool).
                int killed = db.terminate("vault-broker-feed", "vault-broker");
                assertThat(killed, greaterThan(0));
                List<StompTestClient.Received> health = new ArrayList<>();
                awaitHealth(c, health, "degraded");
                long t1 = System.nanoTime();
                awaitHealth(c, health, "ok");
                long recoverKill = (System.nanoTime() - t1) / 1_000_000;
                awaitAttempts(attempts, attempts.get() + 50);

                // 2. The database refuses new connections for three seconds; every backend goes.
                db.allowConnections(false);
                db.terminateAll();
                awaitHealth(c, health, "degraded");
                long refusing = System.nanoTime();
                while (System.nanoTime() - refusing < Duration.ofSeconds(3).toNanos()) {
                    Thread.sleep(100);
                }
                db.allowConnections(true);
                long back = System.nanoTime();
                awaitHealth(c, health, "ok");
                long recoverRefused = (System.nanoTime() - back) / 1_000_000;
                awaitAttempts(attempts, attempts.get() + 50);

                producing.set(false);
                for (Future<?> f : producers) {
                    f.get(1, TimeUnit.MINUTES);
                }
                List<Long> committed = db.ids(owner);
                health.addAll(Messages.until(c, committed.getLast(), WAIT));
                List<Long> delivered = Messages.rowIds(health);
                assertEquals(committed, delivered, "every committed row once, in order");
                System.out.printf("database fault: %d rows committed across the faults; health ok again %d ms after"
                        + " the backends were killed, %d ms after connections were allowed again; feed reconnects %d%n",
                        committed.size(), recoverKill, recoverRefused, app.feed().stats().reconnects());
            } finally {
                producing.set(false);
                pool.shutdownNow();
                app.stop();
            }
        }
    }

    // Inserts until told to stop; a failed insert (the database is refusing) is retried later.
    private static Void produce(ScratchDb db, String owner, AtomicBoolean producing, AtomicLong attempts)
            throws InterruptedException {
        Connection c = null;
        while (producing.get()) {
            try {
                if (c == null) {
                    c = db.connect();
                }
                TestDb.insert(c, "transaction_confirmed", owner, "{\"k\":" + attempts.incrementAndGet() + "}");
                Thread.sleep(2);
            } catch (SQLException e) {
                closeQuietly(c);
                c = null;
                Thread.sleep(50);
            }
        }
        closeQuietly(c);
        return null;
    }

    private static void closeQuietly(Connection c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (SQLException ignored) {
            // Already broken.
        }
    }

    private static void awaitAttempts(AtomicLong attempts, long n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (attempts.get() < n) {
            assertTrue(System.nanoTime() < deadline, "producers stalled");
            Thread.sleep(5);
        }
    }

    // Reads frames until a health_update with the status arrives; other frames are put back into
    // the list so the row check sees them.
    private static void awaitHealth(StompTestClient c, List<StompTestClient.Received> seen, String status)
            throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            StompTestClient.Received r = c.poll(Duration.ofMillis(100));
            if (r == null) {
                continue;
            }
            seen.add(r);
            if ("health_update".equals(r.header("event")) && r.body().contains("\"status\":\"" + status + "\"")) {
                return;
            }
        }
        throw new AssertionError("no health " + status + " within " + WAIT);
    }
}
