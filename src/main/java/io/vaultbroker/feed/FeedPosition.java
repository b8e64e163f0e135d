package io.vaultbroker.feed;

import java.util.List;

/**
 * How far the feed has come. Immutable, thread-safe.
 *
 * <p>A replay that must not duplicate live delivery reads ids in {@code (from, cursor]} except the
 * pending ones: those may still commit, and then the feed delivers them live (marked late).
 *
 * @param cursor  every id at or below it is delivered, or known never to commit, or pending
 * @param pending ranges at or below the cursor whose transactions may still commit
 */
public record FeedPosition(long cursor, List<IdRange> pending) {
    public FeedPosition {
        pending = List.copyOf(pending);
    }

    /** True when the id may still arrive live although it is at or below the cursor. */
    public boolean isPending(long id) {
        for (IdRange r : pending) {
            if (r.contains(id)) {
                return true;
            }
        }
        return false;
    }
}
