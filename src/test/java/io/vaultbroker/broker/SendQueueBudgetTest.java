package io.vaultbroker.broker;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A send queue's age, and the budget of all queues together, on both sides of each. */
class SendQueueBudgetTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private final ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        writers.shutdownNow();
        scheduler.shutdownNow();
    }

    @Test
    void aBlockedWriteAgesTheQueueAndAWrittenQueueHasNoAge() throws Exception {
        FakeTransport t = new FakeTransport();
        t.block();
        Outbox box = new Outbox(t, writers, scheduler, 100, 1 << 20, true, () -> { });
        long before = System.nanoTime();
        box.offer("first");
        box.offer("second");
        long now = System.nanoTime();
        assertThat(box.oldestAgeNanos(now), lessThan(now - before + 1));
        // Eleven seconds on, the first message (blocked in the write) has waited longer than 10 s.
        assertThat(box.oldestAgeNanos(now + 11 * SECOND), greaterThanOrEqualTo(11 * SECOND));
        t.unblock();
        long deadline = System.nanoTime() + 10 * SECOND;
        while (box.queuedFrames() > 0 || t.sent.isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "drained");
            Thread.onSpinWait();
        }
        while (box.oldestAgeNanos(System.nanoTime()) != 0) {
            assertTrue(System.nanoTime() < deadline, "nothing waits once written");
            Thread.onSpinWait();
        }
    }

    @Test
    void allQueuesTogetherAskForEnforcementOnceWhenOverTheirBudget() throws Exception {
        QueueBudget budget = new QueueBudget(10_000);
        AtomicInteger asked = new AtomicInteger();
        budget.onOver(asked::incrementAndGet);
        FakeTransport a = new FakeTransport();
        FakeTransport b = new FakeTransport();
        a.block();
        b.block();
        Outbox first = new Outbox(a, writers, scheduler, 1000, 1 << 20, false, () -> { }, budget);
        Outbox second = new Outbox(b, writers, scheduler, 1000, 1 << 20, false, () -> { }, budget);
        String kb = "x".repeat(1000 - QueueBudget.ENTRY_OVERHEAD);
        // Each outbox's drainer takes its first message into the blocked write (no longer queued,
        // so no longer counted); only then is the rest queued, so the total never passes 10,000.
        first.offer(kb);
        second.offer(kb);
        long deadline = System.nanoTime() + 10 * SECOND;
        while (budget.used() != 0) {
            assertTrue(System.nanoTime() < deadline, "first messages taken by the drainers: " + budget.used());
            Thread.onSpinWait();
        }
        for (int i = 0; i < 5; i++) {
            first.offer(kb);
            second.offer(kb);
        }
        assertThat(budget.used(), is(10_000L));
        assertThat("at the budget, not over it", asked.get(), is(0));
        first.offer(kb);
        assertThat("one past it", asked.get(), is(1));
        second.offer(kb);
        assertThat("asked once until the broker is done", asked.get(), is(1));
        budget.enforced();
        // Closing the largest drops its queue: the budget is back under its bound.
        first.finish(null, 1008, "slow consumer", true);
        assertThat(budget.used(), is(6000L));
        assertThat(budget.over(), is(false));
    }

    @Test
    void anEndingSessionsQueueIsKnownToTheBudgetUntilItsConnectionGoes() throws Exception {
        // A session ended by a limit writes what it queued, then its ERROR: from a client that
        // reads nothing that stays queued for the close grace, outside the broker's session set.
        QueueBudget budget = new QueueBudget(1_000_000);
        FakeTransport t = new FakeTransport();
        t.block();
        Outbox o = new Outbox(t, writers, scheduler, 1000, 1 << 20, false, () -> { }, budget);
        String kb = "x".repeat(1000 - QueueBudget.ENTRY_OVERHEAD);
        for (int i = 0; i < 10; i++) {
            o.offer(kb);
        }
        o.finish("ERROR\nmessage:too many frames\n\n\0", 1008, "too many frames", false);
        assertThat("registered as ending", budget.finishing().contains(o), is(true));
        long before = budget.used();
        assertThat(before > 0, is(true));
        o.dropQueued();
        assertThat("what it held is given back", budget.used() < before, is(true));
        o.transportClosed();
        assertThat("forgotten once its connection is gone", budget.finishing().contains(o), is(false));
        assertThat(budget.used(), is(0L));
    }
}
