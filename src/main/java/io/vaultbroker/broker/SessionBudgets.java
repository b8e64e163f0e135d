package io.vaultbroker.broker;

import java.time.Duration;

/**
 * What one session may cost the broker beyond {@link BrokerSettings}: how old its queue may get,
 * the heap all queues together may use, and how fast the client may send (DESIGN.md §2 limits).
 * Immutable, thread-safe.
 *
 * @param outboxMaxAge      a queue whose oldest frame waited longer is a slow consumer
 * @param outboxTotalBytes  what the queues of all sessions together may hold
 * @param frameRate         client frames per second a session may send on average (0 = off)
 * @param frameBurst        client frames a session may send at once
 * @param catchUpRate       SUBSCRIBEs needing a snapshot or replay per second (0 = off)
 * @param byteRate          bytes per second a client may send on average (0 = off)
 * @param byteBurst         bytes a client may send at once
 */
public record SessionBudgets(Duration outboxMaxAge, long outboxTotalBytes, int frameRate, int frameBurst,
                             int catchUpRate, int byteRate, int byteBurst) {

    /** The share of the heap all queues together may hold by default. */
    public static final int DEFAULT_HEAP_PERCENT = 25;

    /** The contract defaults, with the queue total {@link #DEFAULT_HEAP_PERCENT} of the maximum heap. */
    public static SessionBudgets defaults() {
        return new SessionBudgets(Duration.ofSeconds(10), heapShare(DEFAULT_HEAP_PERCENT), 100, 1000, 10,
                32 * 1024, 256 * 1024);
    }

    /** {@code percent} % of the maximum heap, in bytes. */
    public static long heapShare(int percent) {
        return Runtime.getRuntime().maxMemory() / 100 * percent;
    }
}
