package io.vaultbroker.broker;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts per key (a subject, a remote address) with a ceiling; a key whose count drops to zero
 * is forgotten, so the map holds only keys in use.
 * Thread-safe: every change is one atomic {@code compute} on the key's entry.
 */
public final class KeyedCounts {
    private final ConcurrentHashMap<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final int max;

    public KeyedCounts(int max) {
        this.max = max;
    }

    /** Counts one more for the key; false (and nothing counted) when it already has the maximum. */
    public boolean take(String key) {
        boolean[] taken = new boolean[1];
        counts.compute(key, (k, c) -> {
            AtomicInteger n = c == null ? new AtomicInteger() : c;
            if (n.get() < max) {
                n.incrementAndGet();
                taken[0] = true;
            }
            return n.get() == 0 ? null : n;
        });
        return taken[0];
    }

    /** Counts one less for the key. */
    public void give(String key) {
        counts.computeIfPresent(key, (k, c) -> c.decrementAndGet() <= 0 ? null : c);
    }
}
