package io.vaultbroker.broker;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Destination name to its subscriptions, for routing.
 *
 * <p>Threading: any thread may add and remove (each change is one atomic {@code compute} on the
 * destination's entry, copying its small array); the feed thread reads without locking and sees
 * either the old or the new array, never a half-changed one.
 */
final class SubscriptionRegistry {
    private static final Subscription[] NONE = new Subscription[0];
    private final ConcurrentHashMap<String, Subscription[]> byDestination = new ConcurrentHashMap<>();
    private final AtomicIntegerArray perKind = new AtomicIntegerArray(Destination.Kind.values().length);

    void add(Subscription s) {
        byDestination.compute(s.destination.name(), (k, old) -> {
            if (old == null) {
                return new Subscription[] {s};
            }
            Subscription[] next = Arrays.copyOf(old, old.length + 1);
            next[old.length] = s;
            return next;
        });
        perKind.incrementAndGet(s.destination.kind().ordinal());
    }

    void remove(Subscription s) {
        boolean[] removed = new boolean[1];
        byDestination.computeIfPresent(s.destination.name(), (k, old) -> {
            int i = indexOf(old, s);
            if (i < 0) {
                return old;
            }
            removed[0] = true;
            if (old.length == 1) {
                return null;
            }
            Subscription[] next = new Subscription[old.length - 1];
            System.arraycopy(old, 0, next, 0, i);
            System.arraycopy(old, i + 1, next, i, old.length - i - 1);
            return next;
        });
        if (removed[0]) {
            perKind.decrementAndGet(s.destination.kind().ordinal());
        }
    }

    Subscription[] get(String destination) {
        Subscription[] subs = byDestination.get(destination);
        return subs == null ? NONE : subs;
    }

    int count(Destination.Kind kind) {
        return perKind.get(kind.ordinal());
    }

    private static int indexOf(Subscription[] subs, Subscription s) {
        for (int i = 0; i < subs.length; i++) {
            if (subs[i] == s) {
                return i;
            }
        }
        return -1;
    }
}
