package io.vaultbroker.feed;

import java.util.List;

/**
 * Receives what the feed reads. Called only from the feed's own thread, one call at a time.
 */
public interface FeedSink {
    /**
     * Rows in delivery order, and the feed's position once they are delivered.
     *
     * @param rows     committed rows; in id order except rows marked late
     * @param position every id at or below {@code position.cursor()} is delivered or known
     *                 never to commit, except the ids in {@code position.pending()}
     */
    void deliver(List<EventRow> rows, FeedPosition position);

    /** The feed's status changed (ok/degraded or reason). */
    void status(FeedStatus status);
}
