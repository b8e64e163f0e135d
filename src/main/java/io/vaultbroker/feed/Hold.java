package io.vaultbroker.feed;

import java.util.HashSet;
import java.util.Set;

/**
 * Ids that are missing from the table but may still commit, and what the feed knows of them.
 * Immutable, thread-safe.
 *
 * @param range      the missing ids
 * @param sinceNanos when the feed first saw them missing (the gap's clock)
 * @param candidates the lock holders that may still commit them; {@code null} until first checked
 * @param confirm    no candidate is left: the next read that misses them settles them as rolled back
 * @param overdue    they held delivery longer than {@code max-gap-wait} and were given up
 */
record Hold(IdRange range, long sinceNanos, Set<String> candidates, boolean confirm, boolean overdue) {
    Hold {
        candidates = candidates == null ? null : Set.copyOf(candidates);
    }

    static Hold seen(IdRange range, long now) {
        return new Hold(range, now, null, false, false);
    }

    Hold narrowed(Set<String> holders) {
        Set<String> left;
        if (candidates == null) {
            left = holders;
        } else {
            left = new HashSet<>(candidates);
            left.retainAll(holders);
        }
        return new Hold(range, sinceNanos, left, left.isEmpty(), overdue);
    }

    Hold over(IdRange r) {
        return new Hold(r, sinceNanos, candidates, confirm, overdue);
    }

    Hold givenUp() {
        return new Hold(range, sinceNanos, candidates, confirm, true);
    }
}
