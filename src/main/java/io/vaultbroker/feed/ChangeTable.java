package io.vaultbroker.feed;

import java.sql.SQLException;
import java.util.List;
import java.util.Set;

/**
 * The three reads a feed cycle makes of {@code vault_events}. {@link FeedQueries} sends them to
 * PostgreSQL; tests simulate them. Each may fail at any point; a failed cycle changes nothing.
 * Threading: an implementation serves one feed thread at a time (FeedQueries holds one connection).
 */
interface ChangeTable {
    /** Committed rows with {@code id > after}, ascending, at most {@code limit}. */
    List<EventRow> after(long after, int limit) throws SQLException;

    /** Committed rows whose id lies in one of the ranges, ascending. */
    List<EventRow> inRanges(List<IdRange> ranges) throws SQLException;

    /** The transactions that hold the table's insert lock now (the witness of DESIGN §4). */
    Set<String> holders() throws SQLException;
}
