package io.vaultbroker.it;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.db.Migrations;
import io.vaultbroker.feed.EventRow;
import io.vaultbroker.feed.Feed;
import io.vaultbroker.feed.FeedPosition;
import io.vaultbroker.feed.FeedSink;
import io.vaultbroker.feed.FeedStatus;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The feed alone against a real PostgreSQL: the id-gap traps of DESIGN.md §4, provoked on purpose.
 */
class FeedTest {
    private Feed feed;
    private final List<EventRow> delivered = new CopyOnWriteArrayList<>();
    private final List<FeedStatus> statuses = new CopyOnWriteArrayList<>();

    private final FeedSink sink = new FeedSink() {
        @Override
        public void deliver(List<EventRow> rows, FeedPosition position) {
            delivered.addAll(rows);
        }

        @Override
        public void status(FeedStatus status) {
            statuses.add(status);
        }
    };

    @BeforeAll
    static void schema() throws Exception {
        TestDb.ensure();
        try (Connection c = TestDb.connect()) {
            Migrations.apply(c);
        }
    }

    @AfterEach
    void stopFeed() {
        if (feed != null) {
            feed.stop();
        }
    }

    private void startFeed(Duration maxGapWait) throws InterruptedException {
        feed = new Feed(new Feed.Settings(TestDb.URL, "postgres", "", Duration.ofSeconds(5), 1000, maxGapWait,
                Duration.ofSeconds(5), Feed.Wake.LISTEN), sink);
        feed.start();
        assertTrue(feed.awaitStarted(Duration.ofSeconds(10)));
    }

    @Test
    void aRowWhoseIdWasDrawnBeforeStartIsDeliveredWhenItCommitsAfter() throws Exception {
        String owner = TestBroker.pubkey();
        try (Connection early = TestDb.connect()) {
            early.setAutoCommit(false);
            long drawnBefore = TestDb.insert(early, "balance_update", owner, "{\"early\":true}");
            long committedBefore = TestDb.insert("balance_update", owner, "{\"before\":true}");
            assertTrue(committedBefore > drawnBefore);

            startFeed(Duration.ofSeconds(30));
            long after = TestDb.insert("balance_update", owner, "{\"after\":true}");
            awaitIds(Set.of(after));
            early.commit();
            awaitIds(Set.of(after, drawnBefore));
            assertThat("the row committed before start is not re-delivered",
                    delivered.stream().noneMatch(r -> r.id() == committedBefore), is(true));
        }
    }

    @Test
    void aRolledBackIdCostsNoWaitingForTheGapBound() throws Exception {
        startFeed(Duration.ofSeconds(30));
        String owner = TestBroker.pubkey();
        try (Connection c = TestDb.connect()) {
            c.setAutoCommit(false);
            TestDb.insert(c, "balance_update", owner, "{\"doomed\":true}");
            long next = TestDb.insert("balance_update", owner, "{\"fine\":true}");
            long t0 = System.nanoTime();
            c.rollback();
            awaitIds(Set.of(next));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            // Far below max-gap-wait; other inserters on a shared database may stretch it a little.
            assertThat("skipped as soon as the rollback is seen, far below max-gap-wait", ms, lessThan(10_000L));
        }
        assertThat(feed.stats().gapsRolledBack() >= 1, is(true));
        assertThat(feed.stats().gapsOverdue(), is(0L));
    }

    @Test
    void concurrentProducersAreDeliveredOnceInIdOrder() throws Exception {
        startFeed(Duration.ofSeconds(30));
        List<String> owners = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            owners.add(TestBroker.pubkey());
        }
        List<Producers.Row> committed = Producers.run(8, 80, owners, 7);
        Set<Long> ids = new HashSet<>();
        committed.forEach(r -> ids.add(r.id()));
        awaitIds(ids);

        List<Long> ours = delivered.stream().map(EventRow::id).filter(ids::contains).toList();
        assertThat("each committed row once", ours.size(), is(ids.size()));
        for (int i = 1; i < ours.size(); i++) {
            assertTrue(ours.get(i) > ours.get(i - 1), "id order at " + i + ": " + ours.get(i - 1) + " then " + ours.get(i));
        }
        assertThat(delivered.stream().noneMatch(EventRow::late), is(true));
    }

    @Test
    void anIdDrawnWithNextvalBeforeItsInsertIsNotTakenForRolledBack() throws Exception {
        // nextval() locks the identity sequence, not the table: the witness must include it.
        startFeed(Duration.ofSeconds(30));
        String owner = TestBroker.pubkey();
        try (Connection early = TestDb.connect()) {
            early.setAutoCommit(false);
            long drawn;
            try (var st = early.createStatement();
                 var rs = st.executeQuery("SELECT nextval(pg_get_serial_sequence('vault_events', 'id'))")) {
                rs.next();
                drawn = rs.getLong(1);
            }
            long later = TestDb.insert("balance_update", owner, "{\"later\":true}");
            assertTrue(later > drawn);
            // Long enough for a gap to be settled several times over if the drawer were not a candidate.
            long until = System.nanoTime() + Duration.ofMillis(300).toNanos();
            while (System.nanoTime() < until) {
                assertTrue(delivered.stream().noneMatch(r -> r.id() == later), "row " + later + " waits for " + drawn);
                Thread.sleep(10);
            }
            try (var ps = early.prepareStatement("INSERT INTO vault_events (id, event_type, owner, payload)"
                    + " OVERRIDING SYSTEM VALUE VALUES (?, 'balance_update', ?, '{\"drawn\":true}'::jsonb)")) {
                ps.setLong(1, drawn);
                ps.setString(2, owner);
                ps.executeUpdate();
            }
            early.commit();
            awaitIds(Set.of(drawn, later));
            List<Long> ours = delivered.stream().filter(r -> owner.equals(r.owner())).map(EventRow::id).toList();
            assertThat("in id order, not late", ours, is(List.of(drawn, later)));
        }
    }

    @Test
    void anAsleepFeedHoldsTheWakeLockAndBurnsNoCpu() throws Exception {
        startFeed(Duration.ofSeconds(30));
        // Asleep: its sleeper holds vault_broker_wake in SHARE mode (migration V3).
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!sleeperHoldsTheWakeLock()) {
            assertTrue(System.nanoTime() < deadline, "the feed never fell asleep");
            Thread.sleep(20);
        }
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        Thread.sleep(2000);
        long cpuMs = (os.getProcessCpuTime() - cpu0) / 1_000_000;
        long wallMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(sleeperHoldsTheWakeLock(), "still asleep");
        // A spinning thread would burn a whole core: 2,000 ms of CPU in 2 s.
        assertThat("CPU of this JVM while the feed sleeps, ms in " + wallMs + " ms", cpuMs, lessThan(500L));
        // And it wakes at once for a new row.
        String owner = TestBroker.pubkey();
        long id = TestDb.insert("balance_update", owner, "{\"wake\":true}");
        awaitIds(Set.of(id));
    }

    private static boolean sleeperHoldsTheWakeLock() throws Exception {
        try (Connection c = TestDb.connect(); var st = c.createStatement(); var rs = st.executeQuery(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                        + " WHERE l.relation = 'vault_broker_wake'::regclass AND l.mode = 'ShareLock' AND l.granted"
                        + " AND a.application_name = 'vault-broker-feed-sleeper'")) {
            rs.next();
            return rs.getLong(1) > 0;
        }
    }

    private void awaitIds(Set<Long> ids) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            Set<Long> seen = new HashSet<>();
            delivered.forEach(r -> seen.add(r.id()));
            if (seen.containsAll(ids)) {
                return;
            }
            Thread.sleep(10);
        }
        Set<Long> missing = new HashSet<>(ids);
        delivered.forEach(r -> missing.remove(r.id()));
        throw new AssertionError("not delivered within 30 s: " + missing);
    }
}
