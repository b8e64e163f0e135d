package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 9, finding 1: the feed's connection fails in the middle of a cycle. Before the broker
 * starts, one transaction's inserts are left open below committed rows, so id ranges are watched
 * from the start; 4 producers commit about 40 rows/s; the feed's backend is terminated three times while
 * it runs one kind of statement. Every committed row, the held ones included (committed at the
 * end), must reach the client once per destination, in id order unless marked x-late.
 * On 7272ee4 a kill during the lock-holder or the watched-range read drops the rows the cycle
 * had already read past the cursor. Runs in a database of its own.
 */
class FeedKillMidCycleTest {
    private static final int PRODUCERS = 4;
    // Each producer pauses this long between commits: 4 of them make about 40 rows/s.
    private static final long PAUSE_MS = 100;
    private static final int KILLS = 3;
    // Each of the feed's statements lasts a fraction of a millisecond; these make them last long
    // enough to be seen running: many watched ranges (the unnest read), many locks (the pg_locks
    // read) and payloads of some kilobytes (the read past the cursor).
    private static final int HELD_RANGES = 300;
    private static final int HELD_LOCKS = 1000;
    private static final String PADDING = "x".repeat(16 * 1024);

    @Test
    void killDuringTheLockHolderQueryWhileARangeIsWatchedLosesNothing() throws Exception {
        killThreeTimesDuring(FeedBackend.LOCK_HOLDERS, 11);
    }

    @Test
    void killDuringTheReadPastTheCursorLosesNothing() throws Exception {
        killThreeTimesDuring(FeedBackend.READ_PAST_CURSOR, 12);
    }

    @Test
    void killDuringTheWatchedRangeReadLosesNothing() throws Exception {
        killThreeTimesDuring(FeedBackend.READ_RANGES, 13);
    }

    private static void killThreeTimesDuring(String statement, long seed) throws Exception {
        System.out.println("kill during '" + statement + "': seed " + seed);
        try (ScratchDb db = ScratchDb.create(false); Connection held = db.connect()) {
            String heldOwner = TestBroker.pubkey();
            held.setAutoCommit(false);
            // The held transaction's ids alternate with committed rows, so HELD_RANGES id ranges are
            // watched from the start; the held ids are committed at the end.
            List<Long> heldIds = new ArrayList<>();
            try (Connection above = db.connect()) {
                String nobody = TestBroker.pubkey();
                for (int i = 0; i < HELD_RANGES; i++) {
                    heldIds.add(TestDb.insert(held, "balance_update", heldOwner, "{\"held\":" + i + "}"));
                    TestDb.insert(above, "balance_update", nobody, "{\"above\":" + i + "}");
                }
            }
            try (Statement s = held.createStatement()) {
                // Widens the moment to kill in: every read of pg_locks copies these too.
                s.execute("SELECT count(pg_advisory_xact_lock(g)) FROM generate_series(1, " + HELD_LOCKS + ") g");
            }

            // A short fallback poll, so even a feed that checks its watched ranges only then offers
            // a statement to kill every second.
            Application app = TestBroker.start("db.connection.url", db.url, "feed.poll-interval", "PT1S");
            List<String> owners = new ArrayList<>();
            for (int i = 0; i < PRODUCERS; i++) {
                owners.add(TestBroker.pubkey());
            }
            // Committed row id -> its destination.
            Map<Long, String> committed = new ConcurrentHashMap<>();
            AtomicBoolean producing = new AtomicBoolean(true);
            ExecutorService pool = Executors.newFixedThreadPool(PRODUCERS);
            try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.adminToken())) {
                int sub = 0;
                for (String o : owners) {
                    c.subscribe("s" + sub++, "/user/" + o + "/balance");
                    c.subscribe("s" + sub++, "/user/" + o + "/tx");
                }
                c.subscribe("held", "/user/" + heldOwner + "/balance");

                List<Future<?>> producers = new ArrayList<>();
                for (int p = 0; p < PRODUCERS; p++) {
                    Random random = new Random(seed * 31 + p);
                    producers.add(pool.submit(() -> {
                        try (Connection pc = db.connect()) {
                            while (producing.get()) {
                                String owner = owners.get(random.nextInt(owners.size()));
                                boolean balance = random.nextBoolean();
                                long id = TestDb.insert(pc, balance ? "balance_update" : "transaction_confirmed", owner,
                                        "{\"n\":" + random.nextInt(1_000_000) + ",\"pad\":\"" + PADDING + "\"}");
                                committed.put(id, "/user/" + owner + (balance ? "/balance" : "/tx"));
                                Thread.sleep(PAUSE_MS);
                            }
                        }
                        return null;
                    }));
                }
                List<String> killedIn = new ArrayList<>();
                for (int k = 0; k < KILLS; k++) {
                    int before = committed.size();
                    FeedBackend.await(() -> committed.size() >= before + 40, Duration.ofSeconds(10), "producers stalled");
                    try {
                        killedIn.add(FeedBackend.terminateDuring(db, statement, Duration.ofSeconds(15)));
                    } catch (AssertionError e) {
                        throw new AssertionError(e.getMessage() + " (kill " + (k + 1) + "; feed backends now: "
                                + FeedBackend.activity(db) + ")", e);
                    }
                    FeedBackend.awaitConnected(db, Duration.ofSeconds(10));
                }
                int before = committed.size();
                FeedBackend.await(() -> committed.size() >= before + 40, Duration.ofSeconds(10), "producers stalled");
                producing.set(false);
                for (Future<?> f : producers) {
                    f.get(10, TimeUnit.SECONDS);
                }
                held.commit();

                Map<String, List<Long>> expected = new HashMap<>();
                committed.keySet().stream().sorted()
                        .forEach(id -> expected.computeIfAbsent(committed.get(id), d -> new ArrayList<>()).add(id));
                expected.put("/user/" + heldOwner + "/balance", heldIds);
                List<StompTestClient.Received> frames = DeliveryCheck.collect(c, expected, Duration.ofSeconds(15));
                String problems = DeliveryCheck.problems(expected, frames);
                System.out.printf("kill during '%s': %d rows committed, feed killed %d times in: %s%n", statement,
                        committed.size() + heldIds.size(), KILLS, killedIn);
                assertEquals("", problems, "after " + KILLS + " kills of the feed during '" + statement + "'");
            } finally {
                producing.set(false);
                pool.shutdownNow();
                app.stop();
            }
        }
    }
}
