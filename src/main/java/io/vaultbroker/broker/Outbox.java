package io.vaultbroker.broker;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A session's bounded outbound queue and the writer that drains it to the transport.
 *
 * <p>Producers never block: over the bound an offer is refused and the session is cut off as a
 * slow consumer, so one stalled client costs the others nothing. Consecutive queued frames are
 * written as one WebSocket message when {@code coalesce} is set (STOMP allows several frames per
 * message), which saves a write per frame under load.
 *
 * <p>Every queued message carries the time it was queued, so the broker's ticker can see a
 * queue whose oldest message waited too long (a consumer that reads, but too slowly), and every
 * message is also counted against the {@link QueueBudget} of all sessions together.
 *
 * <p>Threading: {@link #offer} and {@link #finish} from any thread; at most one drainer runs at a
 * time (guarded by {@code draining}), on a virtual thread of the given executor.
 */
final class Outbox {
    private static final System.Logger LOG = System.getLogger(Outbox.class.getName());
    private static final int COALESCE_CHARS = 64 * 1024;
    static final long CLOSE_GRACE_MS = 5000;
    // With the queue dropped only the last frame is left to write: a client that cannot take even
    // that in a second reads nothing, and every moment it stays open the server still reads for it.
    static final long DISCARD_GRACE_MS = 1000;

    /** What became of an offer. */
    enum Offer { QUEUED, FULL, CLOSED }

    private record Close(String lastText, int code, String reason) {
    }

    private record Queued(String text, long atNanos) {
    }

    private final ConcurrentLinkedQueue<Queued> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger frames = new AtomicInteger();
    private final AtomicLong chars = new AtomicLong();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicBoolean closeWritten = new AtomicBoolean();
    private final Transport transport;
    private final Executor executor;
    private final ScheduledExecutorService scheduler;
    private final int maxFrames;
    private final long maxChars;
    private final boolean coalesce;
    private final Runnable onTransportFailure;
    private final QueueBudget budget;
    private volatile Close close;
    // When the drainer's current write began; 0 while it is not writing.
    private volatile long writingSinceNanos;
    private volatile boolean transportClosed;
    private volatile long lastWriteNanos = System.nanoTime();

    Outbox(Transport transport, Executor executor, ScheduledExecutorService scheduler, int maxFrames, long maxBytes,
           boolean coalesce, Runnable onTransportFailure) {
        this(transport, executor, scheduler, maxFrames, maxBytes, coalesce, onTransportFailure, new QueueBudget(Long.MAX_VALUE));
    }

    Outbox(Transport transport, Executor executor, ScheduledExecutorService scheduler, int maxFrames, long maxBytes,
           boolean coalesce, Runnable onTransportFailure, QueueBudget budget) {
        this.budget = budget;
        this.transport = transport;
        this.executor = executor;
        this.scheduler = scheduler;
        this.maxFrames = maxFrames;
        this.maxChars = maxBytes;
        this.coalesce = coalesce;
        this.onTransportFailure = onTransportFailure;
    }

    /** Queues one message; never blocks. */
    Offer offer(String text) {
        if (close != null) {
            return Offer.CLOSED;
        }
        int f = frames.incrementAndGet();
        long c = chars.addAndGet(text.length());
        if (f > maxFrames || c > maxChars) {
            frames.decrementAndGet();
            chars.addAndGet(-text.length());
            return Offer.FULL;
        }
        queue.add(new Queued(text, System.nanoTime()));
        budget.add(QueueBudget.weight(text));
        kick();
        return Offer.QUEUED;
    }

    /**
     * Ends the session: writes {@code lastText} (may be null) after what is queued, or instead of
     * it when {@code discardQueued}, then sends a close frame. The socket is dropped if that has
     * not completed within {@link #CLOSE_GRACE_MS} ({@link #DISCARD_GRACE_MS} when the queue was
     * dropped), even when the peer reads nothing.
     */
    void finish(String lastText, int code, String reason, boolean discardQueued) {
        synchronized (this) {
            if (close != null) {
                return;
            }
            close = new Close(lastText, code, reason);
        }
        if (discardQueued) {
            discard();
        } else {
            budget.finishing(this);
        }
        scheduler.schedule(() -> {
            if (!transportClosed) {
                transport.abort();
            }
        }, discardQueued ? DISCARD_GRACE_MS : CLOSE_GRACE_MS, TimeUnit.MILLISECONDS);
        kick();
    }

    /** The connection is gone: drop what is queued and stop writing. */
    void transportClosed() {
        transportClosed = true;
        synchronized (this) {
            if (close == null) {
                close = new Close(null, 1000, "");
            }
        }
        closeWritten.set(true);
        budget.finished(this);
        discard();
    }

    /** True once the close frame is written or the connection is gone. */
    boolean isDone() {
        return closeWritten.get();
    }

    boolean isFinishing() {
        return close != null;
    }

    long lastWriteNanos() {
        return lastWriteNanos;
    }

    int queuedFrames() {
        return frames.get();
    }

    /** Characters queued now (what the per-session byte bound counts). */
    /** Over the budget of all queues: an ending session gives up what it still had to write. */
    void dropQueued() {
        discard();
    }

    long queuedChars() {
        return chars.get();
    }

    /**
     * How long the oldest message not yet written has waited: the head of the queue, or the
     * write in progress when that one is blocked; 0 when nothing waits.
     */
    long oldestAgeNanos(long nowNanos) {
        long oldest = nowNanos;
        Queued head = queue.peek();
        if (head != null) {
            oldest = head.atNanos();
        }
        long writing = writingSinceNanos;
        if (writing != 0 && writing - oldest < 0) {
            oldest = writing;
        }
        return Math.max(0, nowNanos - oldest);
    }

    private void discard() {
        Queued q;
        while ((q = queue.poll()) != null) {
            frames.decrementAndGet();
            chars.addAndGet(-q.text().length());
            budget.subtract(QueueBudget.weight(q.text()));
        }
    }

    private void kick() {
        if (draining.compareAndSet(false, true)) {
            executor.execute(this::drain);
        }
    }

    private void drain() {
        try {
            while (true) {
                String batch;
                while ((batch = next()) != null) {
                    if (transportClosed) {
                        carry = null;
                        discard();
                        break;
                    }
                    writingSinceNanos = batchSinceNanos;
                    try {
                        transport.send(batch);
                    } finally {
                        writingSinceNanos = 0;
                    }
                    lastWriteNanos = System.nanoTime();
                }
                Close c = close;
                if (c != null && carry == null && queue.isEmpty() && closeWritten.compareAndSet(false, true)) {
                    budget.finished(this);
                    if (c.lastText() != null && !transportClosed) {
                        transport.send(c.lastText());
                    }
                    if (!transportClosed) {
                        transport.close(c.code(), c.reason());
                    }
                }
                draining.set(false);
                // A producer may have queued between the last poll and clearing the flag.
                boolean more = carry != null || !queue.isEmpty() || (close != null && !closeWritten.get());
                if (!more || !draining.compareAndSet(false, true)) {
                    return;
                }
            }
        } catch (Exception e) {
            draining.set(false);
            LOG.log(System.Logger.Level.DEBUG, "write failed: " + e);
            transportClosed();
            transport.abort();
            onTransportFailure.run();
        }
    }

    // Drainer-only: a message taken from the queue that did not fit into the previous batch.
    private String carry;
    private long carrySinceNanos;
    // Drainer-only: when the oldest message of the batch next() returned was queued.
    private long batchSinceNanos;

    private String next() {
        String first;
        if (carry != null) {
            first = carry;
            batchSinceNanos = carrySinceNanos;
        } else {
            first = take();
            batchSinceNanos = takenSinceNanos;
        }
        carry = null;
        if (first == null || !coalesce) {
            return first;
        }
        StringBuilder sb = null;
        String more;
        while ((more = take()) != null) {
            if ((sb == null ? first.length() : sb.length()) + more.length() > COALESCE_CHARS) {
                carry = more;
                carrySinceNanos = takenSinceNanos;
                break;
            }
            if (sb == null) {
                sb = new StringBuilder(Math.min(COALESCE_CHARS, first.length() * 8)).append(first);
            }
            sb.append(more);
        }
        return sb == null ? first : sb.toString();
    }

    // Drainer-only: when the message take() last returned was queued.
    private long takenSinceNanos;

    private String take() {
        Queued q = queue.poll();
        if (q == null) {
            return null;
        }
        frames.decrementAndGet();
        chars.addAndGet(-q.text().length());
        budget.subtract(QueueBudget.weight(q.text()));
        takenSinceNanos = q.atNanos();
        return q.text();
    }
}
