package io.vaultbroker.feed;

/**
 * What the feed reports about itself: ok, or degraded with a short reason.
 * Immutable, thread-safe.
 *
 * @param ok     true when the database is reachable and delivery is not held back
 * @param reason short text, empty when ok
 * @param lagMs  how long the oldest row the feed has seen but not yet delivered has waited
 */
public record FeedStatus(boolean ok, String reason, long lagMs) {
    /** The status before the feed has reached the database. */
    public static final FeedStatus STARTING = new FeedStatus(false, "feed starting", 0);

    static FeedStatus ok(long lagMs) {
        return new FeedStatus(true, "", lagMs);
    }

    static FeedStatus degraded(String reason, long lagMs) {
        return new FeedStatus(false, reason, lagMs);
    }
}
