package io.vaultbroker.feed;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters the feed keeps for metrics. Written by the feed thread, read from any thread.
 */
public final class FeedStats {
    final AtomicLong rowsRead = new AtomicLong();
    final AtomicLong rowsDelivered = new AtomicLong();
    final AtomicLong lateRows = new AtomicLong();
    final AtomicLong gapsRolledBack = new AtomicLong();
    final AtomicLong gapsOverdue = new AtomicLong();
    final AtomicLong polls = new AtomicLong();
    final AtomicLong pollNanos = new AtomicLong();
    final AtomicLong queries = new AtomicLong();
    final AtomicLong reconnects = new AtomicLong();
    final AtomicLong lagMs = new AtomicLong();
    final AtomicLong lagRows = new AtomicLong();
    final AtomicLong cursor = new AtomicLong();
    final AtomicLong failures = new AtomicLong();
    final AtomicLong lockReads = new AtomicLong();
    final AtomicLong watched = new AtomicLong();
    final AtomicLong abandoned = new AtomicLong();
    final AtomicLong resets = new AtomicLong();

    /** Feed cycles that failed for a reason other than the database (a bug, an Error); each restarted the loop. */
    public long failures() {
        return failures.get();
    }

    /** Lock-holder reads (pg_locks) the feed has sent. */
    public long lockReads() {
        return lockReads.get();
    }

    /** Id ranges at or below the cursor still watched for a late commit. */
    public long watched() {
        return watched.get();
    }

    /** Watched id ranges dropped because more than the cap were watched. */
    public long abandoned() {
        return abandoned.get();
    }

    /** Times the table's identity was found reset below the cursor. */
    public long resets() {
        return resets.get();
    }

    /** Rows read from the change table. */
    public long rowsRead() {
        return rowsRead.get();
    }

    /** Rows handed to the sink. */
    public long rowsDelivered() {
        return rowsDelivered.get();
    }

    /** Rows delivered after the feed had stopped waiting for them. */
    public long lateRows() {
        return lateRows.get();
    }

    /** Id gaps skipped because the transactions that drew them rolled back. */
    public long gapsRolledBack() {
        return gapsRolledBack.get();
    }

    /** Id gaps skipped because they were held longer than {@code feed.max-gap-wait}. */
    public long gapsOverdue() {
        return gapsOverdue.get();
    }

    /** Read cycles run. */
    public long polls() {
        return polls.get();
    }

    /** Total time spent in read cycles. */
    public long pollNanos() {
        return pollNanos.get();
    }

    /** SQL statements the feed has sent. */
    public long queries() {
        return queries.get();
    }

    /** Times the feed had to open a new connection after losing one. */
    public long reconnects() {
        return reconnects.get();
    }

    /** How long the oldest seen but undelivered row has waited. */
    public long lagMs() {
        return lagMs.get();
    }

    /** Rows seen but not yet delivered. */
    public long lagRows() {
        return lagRows.get();
    }

    /** The feed's cursor: the highest id up to which everything is settled. */
    public long cursor() {
        return cursor.get();
    }
}
