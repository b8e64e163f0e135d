package io.vaultbroker.broker;

import java.util.concurrent.TimeUnit;

/**
 * A token bucket: up to {@code burst} at once, refilled at {@code perSecond}. A rate of 0 turns
 * it off (every take succeeds). Not thread-safe: one session's reader thread owns each bucket.
 */
final class TokenBucket {
    private final double perNano;
    private final double burst;
    private double tokens;
    private long lastNanos;

    TokenBucket(int perSecond, int burst, long nowNanos) {
        this.perNano = perSecond / (double) TimeUnit.SECONDS.toNanos(1);
        this.burst = Math.max(1, burst);
        this.tokens = this.burst;
        this.lastNanos = nowNanos;
    }

    /** Takes one token; false (and nothing taken) when the bucket is empty. */
    boolean take(long nowNanos) {
        return take(nowNanos, 1);
    }

    /** Takes {@code n} tokens; false (and nothing taken) when fewer are left. */
    boolean take(long nowNanos, long n) {
        if (perNano == 0) {
            return true;
        }
        long elapsed = nowNanos - lastNanos;
        if (elapsed > 0) {
            tokens = Math.min(burst, tokens + elapsed * perNano);
            lastNanos = nowNanos;
        }
        if (tokens < n) {
            return false;
        }
        tokens -= n;
        return true;
    }
}
