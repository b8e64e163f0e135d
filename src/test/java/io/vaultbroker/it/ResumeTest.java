package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resume after reconnect and snapshot on subscribe, with producers racing the client.
 */
class ResumeTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static Application app;

    @BeforeAll
    static void start() throws Exception {
        app = TestBroker.start();
    }

    @AfterAll
    static void stop() {
        app.stop();
    }

    /** Sends SUBSCRIBE without a receipt, so replayed messages may come first. */
    static void subscribe(StompTestClient c, String id, String destination, String... extra) {
        StompHeaders.Builder h = StompHeaders.builder().add("id", id).add("destination", destination);
        for (int i = 0; i + 1 < extra.length; i += 2) {
            h.add(extra[i], extra[i + 1]);
        }
        c.send(StompFrame.of(StompCommand.SUBSCRIBE, h.build()));
    }

    @Test
    void resumeUnderLoadDeliversExactlyTheCommittedSequence() throws Exception {
        String owner = TestBroker.pubkey();
        String dest = "/user/" + owner + "/tx";
        ConcurrentSkipListSet<Long> committed = new ConcurrentSkipListSet<>();
        AtomicBoolean producing = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> producers = new ArrayList<>();
        List<Long> first;
        List<Long> second;
        try (StompTestClient c1 = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
            c1.subscribe("tx", dest);
            for (int p = 0; p < 4; p++) {
                producers.add(pool.submit(() -> {
                    try (Connection db = TestDb.connect()) {
                        for (int i = 0; i < 2000 && producing.get(); i++) {
                            committed.add(TestDb.insert(db, "transaction_confirmed", owner, "{\"i\":" + i + "}"));
                        }
                    }
                    return null;
                }));
            }
            // Read part of the stream, then drop the connection mid-stream.
            List<StompTestClient.Received> got = c1.collectUntil(fs -> fs.size() >= 300, WAIT);
            first = Messages.rowIds(got);
            assertThat(first.size(), is(300));
        }
        long resumeFrom = first.getLast();
        long seen = committed.size();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (committed.size() < seen + 300 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        try (StompTestClient c2 = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
            subscribe(c2, "tx", dest, "x-resume-after", Long.toString(resumeFrom));
            // Producers keep inserting while the replay runs, then stop.
            Thread.sleep(300);
            producing.set(false);
            for (Future<?> f : producers) {
                f.get(1, TimeUnit.MINUTES);
            }
            second = Messages.rowIds(Messages.until(c2, committed.last(), WAIT));
        } finally {
            pool.shutdownNow();
        }
        List<Long> union = new ArrayList<>(first);
        union.addAll(second);
        assertEquals(new ArrayList<>(committed), union, "first session then resumed session = committed sequence");
        assertThat(new HashSet<>(union).size(), is(union.size()));
        System.out.printf("resume under load: %d committed, %d before the drop, %d after resume%n",
                committed.size(), first.size(), second.size());
    }

    @Test
    void resumeOverTheReplayBoundGetsTheGapNoticeFirst() throws Exception {
        Application small = TestBroker.start("replay.limit", "50");
        try {
            String owner = TestBroker.pubkey();
            List<Long> ids = new ArrayList<>();
            try (Connection db = TestDb.connect()) {
                for (int i = 0; i < 120; i++) {
                    ids.add(TestDb.insert(db, "balance_update", owner, "{\"i\":" + i + "}"));
                }
            }
            awaitFeedPast(small, ids.getLast());
            try (StompTestClient c = StompTestClient.connect(small.port(), TestBroker.userToken(owner))) {
                subscribe(c, "b", "/user/" + owner + "/balance", "x-resume-after", Long.toString(ids.getFirst() - 1));
                StompTestClient.Received gap = c.next(WAIT);
                assertThat(gap.command(), is(StompCommand.MESSAGE));
                assertThat(gap.header("x-resume"), is("gap"));
                assertThat(gap.header("event"), is("resume_gap"));
                assertTrue(gap.header("message-id").startsWith("gap-"), gap.header("message-id"));
                assertTrue(gap.body().contains("\"oldestId\":" + ids.get(70)), gap.body());
                long live = TestDb.insert("balance_update", owner, "{\"live\":true}");
                List<Long> rest = Messages.rowIds(Messages.until(c, live, WAIT));
                List<Long> expected = new ArrayList<>(ids.subList(70, 120));
                expected.add(live);
                assertEquals(expected, rest);
            }
        } finally {
            small.stop();
        }
    }

    @Test
    void resumeAtTheFeedPositionMissesNothingAndRepeatsNothing() throws Exception {
        String owner = TestBroker.pubkey();
        long a = TestDb.insert("transaction_confirmed", owner, "{\"a\":1}");
        awaitFeedPast(app, a);
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
            subscribe(c, "tx", "/user/" + owner + "/tx", "x-resume-after", Long.toString(a));
            long b = TestDb.insert("transaction_confirmed", owner, "{\"b\":1}");
            assertEquals(List.of(b), Messages.rowIds(Messages.until(c, b, WAIT)));
        }
    }

    @Test
    void aResumeIdAheadOfThisFeedIsNotSentAgain() throws Exception {
        // Another instance may already have delivered ids this feed has not reached: hold this
        // feed at a gap, resume past it, and let the gap fill.
        String owner = TestBroker.pubkey();
        String dest = "/user/" + owner + "/tx";
        try (Connection slow = TestDb.connect();
             StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
            slow.setAutoCommit(false);
            long held = TestDb.insert(slow, "transaction_confirmed", owner, "{\"n\":1}");
            long ahead = TestDb.insert("transaction_confirmed", owner, "{\"n\":2}");
            assertTrue(app.feed().stats().cursor() < held, "the feed is held below the gap");
            c.subscribe("t", dest, "x-resume-after", Long.toString(ahead));
            slow.commit();
            long next = TestDb.insert("transaction_confirmed", owner, "{\"n\":3}");
            assertEquals(List.of(next), Messages.rowIds(Messages.until(c, next, WAIT)),
                    "only the row after the resume id, nothing the client already has");
        }
    }

    @Test
    void snapshotThenLiveWithInsertsRacingTheSubscribe() throws Exception {
        String owner = TestBroker.pubkey();
        String dest = "/user/" + owner + "/balance";
        ConcurrentSkipListSet<Long> committed = new ConcurrentSkipListSet<>();
        AtomicBoolean producing = new AtomicBoolean(true);
        long first = TestDb.insert("balance_update", owner, "{\"n\":-1}");
        committed.add(first);
        // A snapshot is the latest row the feed has passed: let it pass the first one.
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (app.feed().stats().cursor() < first && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Future<?>> producers = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            producers.add(pool.submit(() -> {
                try (Connection db = TestDb.connect()) {
                    for (int i = 0; i < 5000 && producing.get(); i++) {
                        committed.add(TestDb.insert(db, i % 3 == 0 ? "collateral_locked" : "balance_update", owner,
                                "{\"n\":" + i + "}"));
                    }
                }
                return null;
            }));
        }
        List<StompTestClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner));
                clients.add(c);
                subscribe(c, "b", dest);
                Thread.sleep(10);
            }
            producing.set(false);
            for (Future<?> f : producers) {
                f.get(1, TimeUnit.MINUTES);
            }
            long last = committed.last();
            for (StompTestClient c : clients) {
                List<StompTestClient.Received> got = Messages.until(c, last, WAIT);
                assertThat(got.size(), greaterThan(0));
                assertThat("the first message is the snapshot", got.getFirst().header("x-snapshot"), is("true"));
                List<Long> ids = Messages.rowIds(got);
                long snap = ids.getFirst();
                List<Long> expected = new ArrayList<>(committed.tailSet(snap, true));
                assertEquals(expected, ids, "snapshot, then every later row once, in order");
                for (int i = 1; i < got.size(); i++) {
                    assertTrue(got.get(i).header("x-snapshot") == null, "only the first is a snapshot");
                }
            }
        } finally {
            clients.forEach(StompTestClient::close);
            pool.shutdownNow();
        }
    }

    @Test
    void replayOfTenThousandRowsSpeed() throws Exception {
        String owner = TestBroker.pubkey();
        long firstId;
        long lastId;
        try (Connection db = TestDb.connect();
             PreparedStatement ps = db.prepareStatement("INSERT INTO vault_events (event_type, owner, payload)"
                     + " SELECT 'transaction_confirmed', ?, jsonb_build_object('transactionId', 'tx-' || g,"
                     + " 'transactionType', 'deposit', 'amount', 100000000 + g) FROM generate_series(1, 10000) g"
                     + " RETURNING id")) {
            ps.setString(1, owner);
            firstId = Long.MAX_VALUE;
            lastId = 0;
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    firstId = Math.min(firstId, rs.getLong(1));
                    lastId = Math.max(lastId, rs.getLong(1));
                }
            }
        }
        awaitFeedPast(app, lastId);
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
            long t0 = System.nanoTime();
            subscribe(c, "tx", "/user/" + owner + "/tx", "x-resume-after", Long.toString(firstId - 1));
            List<StompTestClient.Received> got = Messages.until(c, lastId, Duration.ofSeconds(60));
            long nanos = got.getLast().nanos() - t0;
            List<Long> ids = Messages.rowIds(got);
            assertThat(ids.size(), is(10_000));
            assertThat(ids.getFirst(), is(firstId));
            assertTrue(got.stream().noneMatch(r -> "gap".equals(r.header("x-resume"))), "no gap notice within the bound");
            System.out.printf("replay of 10,000 rows: %.0f ms, %.0f events/s%n", nanos / 1e6, 10_000 / (nanos / 1e9));
        }
    }

    static void awaitFeedPast(Application a, long id) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (a.feed().stats().cursor() < id) {
            assertTrue(System.nanoTime() < deadline, "feed did not pass id " + id);
            Thread.sleep(5);
        }
    }
}
