package io.vaultbroker.feed;

import java.util.List;

/**
 * Where the gap rule stands between two cycles. Immutable, thread-safe; the feed replaces its
 * state with the next one only after the sink took the rows of the step that made it.
 *
 * <p>Every id in {@code (cursor, readTo]} is either a row in {@code buffer} (read, waiting for a
 * gap below it) or inside one of {@code gaps}. Every id at or below {@code cursor} is delivered,
 * known never to commit, or inside one of {@code watches}.
 *
 * @param cursor          delivery position
 * @param readTo          highest id read past the cursor
 * @param buffer          rows above the cursor held behind a gap, ascending
 * @param gaps            missing ids above the cursor, ascending
 * @param watches         missing ids at or below the cursor that may still commit (delivered late), ascending
 * @param lastWatchNanos  when watches were last read
 */
record GapState(long cursor, long readTo, List<EventRow> buffer, List<Hold> gaps, List<Hold> watches,
                long lastWatchNanos) {
    GapState {
        buffer = List.copyOf(buffer);
        gaps = List.copyOf(gaps);
        watches = List.copyOf(watches);
    }

    /** Ids at or below the cursor that may still arrive, for snapshots and replays. */
    FeedPosition position() {
        return new FeedPosition(cursor, watches.stream().map(Hold::range).toList());
    }

    /** Everything at or below this id is settled for good (no watch, no gap). */
    long settledThrough() {
        return watches.isEmpty() ? cursor : Math.min(cursor, watches.getFirst().range().from() - 1);
    }
}
