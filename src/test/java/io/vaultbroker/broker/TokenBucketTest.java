package io.vaultbroker.broker;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The client-frame and catch-up rates: a burst, then the sustained rate, on both sides of each. */
class TokenBucketTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void aBurstIsAllowedAndOneMoreIsNot() {
        TokenBucket b = new TokenBucket(100, 1000, 0);
        for (int i = 0; i < 1000; i++) {
            assertTrue(b.take(0), "frame " + i + " of the burst");
        }
        assertFalse(b.take(0), "frame 1001 at the same instant");
    }

    @Test
    void theSustainedRatePassesAndAFasterOneIsRefused() {
        TokenBucket atRate = new TokenBucket(100, 1000, 0);
        TokenBucket faster = new TokenBucket(100, 1000, 0);
        boolean fasterRefused = false;
        // 60 s of frames after an initial burst: exactly 100/s never runs dry, 110/s does.
        for (int i = 0; i < 1000; i++) {
            atRate.take(0);
            faster.take(0);
        }
        for (int i = 1; i <= 6000; i++) {
            assertTrue(atRate.take(i * SECOND / 100), "frame " + i + " at 100/s");
        }
        for (int i = 1; i <= 6600 && !fasterRefused; i++) {
            fasterRefused = !faster.take(i * SECOND / 110);
        }
        assertTrue(fasterRefused, "110/s is refused once the burst is spent");
    }

    @Test
    void tenCatchUpsASecondButNotEleven() {
        TokenBucket b = new TokenBucket(10, 10, 0);
        for (int i = 0; i < 10; i++) {
            assertTrue(b.take(0));
        }
        assertFalse(b.take(0), "the eleventh at once");
        assertFalse(b.take(SECOND / 20), "half a token after 50 ms");
        assertTrue(b.take(SECOND / 10), "a tenth of a second later one is back");
        assertFalse(b.take(SECOND / 10));
    }

    @Test
    void idleTimeRefillsOnlyUpToTheBurst() {
        TokenBucket b = new TokenBucket(100, 5, 0);
        for (int i = 0; i < 5; i++) {
            assertTrue(b.take(0));
        }
        long later = 3600 * SECOND;
        for (int i = 0; i < 5; i++) {
            assertTrue(b.take(later));
        }
        assertFalse(b.take(later), "an hour of silence buys no more than the burst");
    }

    @Test
    void rateZeroIsOff() {
        TokenBucket b = new TokenBucket(0, 0, 0);
        for (int i = 0; i < 100_000; i++) {
            assertTrue(b.take(0));
        }
    }

    @Test
    void manyTokensAtOnceUpToTheBurstButNotPastIt() {
        TokenBucket b = new TokenBucket(1000, 5000, 0);
        org.junit.jupiter.api.Assertions.assertTrue(b.take(0, 5000), "the whole burst at once");
        org.junit.jupiter.api.Assertions.assertFalse(b.take(0, 1), "then nothing");
        // One second refills 1,000: 1,000 pass, 1,001 do not (and take nothing).
        org.junit.jupiter.api.Assertions.assertFalse(b.take(1_000_000_000L, 1001));
        org.junit.jupiter.api.Assertions.assertTrue(b.take(1_000_000_000L, 1000));
    }
}
