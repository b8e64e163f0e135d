package io.vaultbroker.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-session queue under contention: many producers, one drainer at a time, a bound that
 * refuses instead of blocking, and a close that happens even when the peer reads nothing.
 */
class OutboxTest {
    private final ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        writers.shutdownNow();
        scheduler.shutdownNow();
    }

    @Test
    void racingProducersLoseNothingAndKeepTheirOwnOrder() throws Exception {
        FakeTransport t = new FakeTransport();
        Outbox box = new Outbox(t, writers, scheduler, 1_000_000, 1L << 30, true, () -> { });
        int producers = 8;
        int each = 5_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            int id = p;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    assertThat(box.offer("p" + id + ":" + i + ";"), is(Outbox.Offer.QUEUED));
                }
            }));
        }
        go.countDown();
        for (Thread th : threads) {
            th.join();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (box.queuedFrames() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        String all = String.join("", t.sent);
        int[] next = new int[producers];
        int count = 0;
        for (String item : all.split(";")) {
            int colon = item.indexOf(':');
            int p = Integer.parseInt(item.substring(1, colon));
            int i = Integer.parseInt(item.substring(colon + 1));
            assertThat("producer " + p + " in order", i, is(next[p]));
            next[p]++;
            count++;
        }
        assertThat(count, is(producers * each));
        assertTrue(t.sent.size() < count, "consecutive frames are coalesced into fewer messages");
    }

    @Test
    void overTheBoundOffersAreRefusedNotBlocked() throws Exception {
        FakeTransport t = new FakeTransport();
        t.block();
        Outbox box = new Outbox(t, writers, scheduler, 10, 1L << 20, false, () -> { });
        int queued = 0;
        int refused = 0;
        for (int i = 0; i < 50; i++) {
            if (box.offer("m" + i) == Outbox.Offer.QUEUED) {
                queued++;
            } else {
                refused++;
            }
        }
        // One message may already sit in the blocked writer; the queue itself holds at most 10.
        assertTrue(queued <= 11, "queued " + queued);
        assertTrue(refused >= 39, "refused " + refused);
        t.unblock();
    }

    @Test
    void finishClosesWithinTheGraceEvenWhenThePeerReadsNothing() throws Exception {
        FakeTransport t = new FakeTransport();
        t.block();
        Outbox box = new Outbox(t, writers, scheduler, 100, 1L << 20, true, () -> { });
        box.offer("stuck");
        long t0 = System.nanoTime();
        box.finish("ERROR\nmessage:slow consumer\n\n\0", 1008, "slow consumer", true);
        assertTrue(t.aborted.await(Outbox.CLOSE_GRACE_MS + 3000, TimeUnit.MILLISECONDS), "socket dropped");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < Outbox.CLOSE_GRACE_MS + 3000, "dropped after " + ms + " ms");
        assertThat(box.offer("after"), is(Outbox.Offer.CLOSED));
        t.unblock();
    }

    @Test
    void finishWritesWhatIsQueuedThenTheLastFrameThenCloses() throws Exception {
        FakeTransport t = new FakeTransport();
        Outbox box = new Outbox(t, writers, scheduler, 100, 1L << 20, false, () -> { });
        box.offer("a");
        box.offer("b");
        box.finish("last", 1000, "bye", false);
        assertTrue(t.awaitClosed());
        assertThat(t.sent, is(List.of("a", "b", "last")));
        assertThat(t.closeCode, is(1000));
    }
}
