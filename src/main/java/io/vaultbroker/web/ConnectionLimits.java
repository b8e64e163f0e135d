package io.vaultbroker.web;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts open WebSocket connections in total and per remote address, so a flood of
 * unauthenticated sockets is refused before it costs a session.
 * Thread-safe: atomic counters and compute calls on a concurrent map.
 */
final class ConnectionLimits {
    private final int maxTotal;
    private final int maxPerAddress;
    private final AtomicInteger total = new AtomicInteger();
    private final Map<String, AtomicInteger> perAddress = new ConcurrentHashMap<>();

    ConnectionLimits(int maxTotal, int maxPerAddress) {
        this.maxTotal = maxTotal;
        this.maxPerAddress = maxPerAddress;
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
        boolean[] ok = new boolean[1];
        perAddress.compute(address, (k, n) -> {
            AtomicInteger c = n == null ? new AtomicInteger() : n;
            if (c.get() < maxPerAddress) {
                c.incrementAndGet();
                ok[0] = true;
            }
            return c.get() == 0 ? null : c;
        });
        if (!ok[0]) {
            total.decrementAndGet();
        }
        return ok[0];
    }

    void close(String address) {
        total.decrementAndGet();
        perAddress.computeIfPresent(address, (k, c) -> c.decrementAndGet() <= 0 ? null : c);
    }

    int open() {
        return total.get();
    }
}
