package io.vaultbroker.web;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts open WebSocket connections in total, so that they stay within their budget whatever
 * the TCP budget allows. Per-address counts start earlier, at accept ({@link AcceptGuard}).
 * Thread-safe: an atomic total.
 */
final class ConnectionLimits {
    private final int maxTotal;
    private final AtomicInteger total = new AtomicInteger();

    ConnectionLimits(int maxTotal) {
        this.maxTotal = maxTotal;
    }

    /** A cheap early check at the upgrade. */
    boolean full() {
        return total.get() >= maxTotal;
    }

    /** Counts a new connection; false (and nothing counted) when the total would be passed. */
    boolean tryOpen() {
        if (total.incrementAndGet() > maxTotal) {
            total.decrementAndGet();
            return false;
        }
        return true;
    }

    void close() {
        total.decrementAndGet();
    }

    int open() {
        return total.get();
    }
}
