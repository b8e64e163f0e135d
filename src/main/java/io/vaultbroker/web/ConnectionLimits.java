package io.vaultbroker.web;

import java.util.concurrent.atomic.AtomicInteger;

import io.vaultbroker.broker.KeyedCounts;

/**
 * Counts open WebSocket connections in total and per remote address, so a flood of
 * unauthenticated sockets is refused before it costs a session.
 * Thread-safe: an atomic total and {@link KeyedCounts} per address.
 */
final class ConnectionLimits {
    private final int maxTotal;
    private final AtomicInteger total = new AtomicInteger();
    private final KeyedCounts perAddress;

    ConnectionLimits(int maxTotal, int maxPerAddress) {
        this.maxTotal = maxTotal;
        this.perAddress = new KeyedCounts(maxPerAddress);
    }

    /** A cheap early check at the upgrade (no address known yet). */
    boolean full() {
        return total.get() >= maxTotal;
    }

    /** Counts a new connection; false (and nothing counted) when a limit would be passed. */
    boolean open(String address) {
        if (total.incrementAndGet() > maxTotal) {
            total.decrementAndGet();
            return false;
        }
        if (!perAddress.take(address)) {
            total.decrementAndGet();
            return false;
        }
        return true;
    }

    void close(String address) {
        total.decrementAndGet();
        perAddress.give(address);
    }

    int open() {
        return total.get();
    }
}
