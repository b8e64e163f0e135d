package io.vaultbroker.broker;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap all send queues together may hold. Outboxes add what they queue and subtract what
 * they write or drop; the first offer that passes the budget asks the broker, once, to close the
 * sessions with the largest queues. It also knows the outboxes of sessions that have ended but
 * still hold what they queued before their last frame (an ERROR after a limit): a client that
 * reads nothing keeps those for the close grace, and they are the first to go when the budget is
 * passed. Thread-safe: atomics and a concurrent set.
 */
final class QueueBudget {
    /** What one queued message costs beyond its characters: queue node, entry, String header, array. */
    static final int ENTRY_OVERHEAD = 96;

    private final long max;
    private final AtomicLong used = new AtomicLong();
    private final AtomicBoolean enforcing = new AtomicBoolean();
    private volatile Runnable enforce = () -> { };
    private final Set<Outbox> finishing = ConcurrentHashMap.newKeySet();

    QueueBudget(long max) {
        this.max = max;
    }

    /** Set once by the broker: runs (off the offering thread) when the budget is passed. */
    void onOver(Runnable enforce) {
        this.enforce = enforce;
    }

    static long weight(String text) {
        return text.length() + ENTRY_OVERHEAD;
    }

    void add(long bytes) {
        if (used.addAndGet(bytes) > max && enforcing.compareAndSet(false, true)) {
            enforce.run();
        }
    }

    void subtract(long bytes) {
        used.addAndGet(-bytes);
    }

    /** The enforcement finished: the next offer over the budget may ask again. */
    void enforced() {
        enforcing.set(false);
    }

    long used() {
        return used.get();
    }

    long max() {
        return max;
    }

    /** An ended session's outbox still writes what it queued before its last frame. */
    void finishing(Outbox o) {
        finishing.add(o);
    }

    /** That outbox has written its close, or its connection is gone. */
    void finished(Outbox o) {
        finishing.remove(o);
    }

    /** Outboxes of ended sessions that still hold queued frames. */
    Set<Outbox> finishing() {
        return finishing;
    }

    boolean over() {
        return used.get() > max;
    }
}
