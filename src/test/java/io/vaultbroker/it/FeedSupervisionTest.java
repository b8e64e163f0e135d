package io.vaultbroker.it;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

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
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing kills the feed, and its health tells the truth (DESIGN §4): an {@link Error} thrown in
 * a cycle restarts it without losing the row, and a loop that stops moving is reported degraded by
 * the watchdog within the lag threshold, not by what the feed last said.
 */
class FeedSupervisionTest {
    private static final Duration LAG_THRESHOLD = Duration.ofSeconds(1);
    private Feed feed;
    private final List<EventRow> delivered = new CopyOnWriteArrayList<>();
    private final List<FeedStatus> statuses = new CopyOnWriteArrayList<>();

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

    @Test
    void anErrorInACycleRestartsTheFeedAndTheRowIsStillDelivered() throws Exception {
        String owner = TestBroker.pubkey();
        AtomicBoolean thrown = new AtomicBoolean();
        start(new Sink() {
            @Override
            public void deliver(List<EventRow> rows, FeedPosition position) {
                if (rows.stream().anyMatch(r -> owner.equals(r.owner())) && thrown.compareAndSet(false, true)) {
                    throw new StackOverflowError("injected");
                }
                super.deliver(rows, position);
            }
        });
        long id = TestDb.insert("balance_update", owner, "{\"n\":1}");
        await(() -> delivered.stream().anyMatch(r -> r.id() == id), "row " + id + " delivered after the Error");
        assertTrue(thrown.get());
        assertEquals(1, delivered.stream().filter(r -> r.id() == id).count(), "delivered once");
        assertThat(feed.stats().failures(), greaterThanOrEqualTo(1L));
        assertTrue(statuses.stream().anyMatch(s -> !s.ok() && s.reason().equals("feed failed")), "reported: " + statuses);
        await(() -> feed.status().ok(), "ok again");
    }

    @Test
    void aStalledLoopIsReportedDegradedWithinTheLagThresholdAndRecovers() throws Exception {
        String owner = TestBroker.pubkey();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch stuck = new CountDownLatch(1);
        start(new Sink() {
            @Override
            public void deliver(List<EventRow> rows, FeedPosition position) {
                if (rows.stream().anyMatch(r -> owner.equals(r.owner())) && stuck.getCount() > 0) {
                    stuck.countDown();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                super.deliver(rows, position);
            }
        });
        await(() -> feed.status().ok(), "ok at first");
        long id = TestDb.insert("balance_update", owner, "{\"n\":1}");
        assertTrue(stuck.await(10, TimeUnit.SECONDS));
        long t0 = System.nanoTime();
        await(() -> statuses.stream().anyMatch(s -> s.reason().equals("feed stalled")), "stall reported");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat("reported within the lag threshold and a watchdog period", ms, lessThan(LAG_THRESHOLD.toMillis() + 1000));
        assertTrue(!feed.status().ok(), "health reads degraded while stalled");
        release.countDown();
        await(() -> delivered.stream().anyMatch(r -> r.id() == id), "row delivered once released");
        await(() -> feed.status().ok(), "ok again after the stall");
        assertTrue(statuses.getLast().ok(), "the sink was told: " + statuses);
    }

    private class Sink implements FeedSink {
        @Override
        public void deliver(List<EventRow> rows, FeedPosition position) {
            delivered.addAll(rows);
        }

        @Override
        public void status(FeedStatus status) {
            statuses.add(status);
        }
    }

    private void start(FeedSink sink) throws InterruptedException {
        feed = new Feed(new Feed.Settings(TestDb.URL, "postgres", "", Duration.ofSeconds(5), 1000, Duration.ofSeconds(30),
                LAG_THRESHOLD, Feed.Wake.LISTEN), sink);
        feed.start();
        assertTrue(feed.awaitStarted(Duration.ofSeconds(10)));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(10);
        }
    }
}
