package io.vaultbroker.feed;

import java.util.List;

/**
 * Receives what the feed reads. {@link #deliver} is called from the feed's loop thread, one call at a
 * time; {@link #status} from the loop thread or the feed's watchdog, one call at a time.
 */
public interface FeedSink {
    /**
     * Rows in delivery order, and the feed's position once they are delivered. Should contain a
     * failure per row itself; if it throws, the feed reads the same rows again and delivers them
     * anew (so some subscribers may see a row twice, none misses one).
     *
     * @param rows     committed rows; in id order except rows marked late
     * @param position every id at or below {@code position.cursor()} is delivered or known
     *                 never to commit, except the ids in {@code position.pending()}
     */
    void deliver(List<EventRow> rows, FeedPosition position);

    /** The feed's status changed (ok/degraded or reason). */
    void status(FeedStatus status);
}
