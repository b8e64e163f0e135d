package io.vaultbroker.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

/**
 * The per-subject and per-address ceilings under racing connects: never more than the maximum
 * at once, and every slot comes back.
 */
class KeyedCountsTest {
    @Test
    void theCeilingHoldsUnderRacingTakes() throws Exception {
        KeyedCounts counts = new KeyedCounts(5);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger maxSeen = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 5_000; i++) {
                    if (counts.take("subject")) {
                        maxSeen.accumulateAndGet(inside.incrementAndGet(), Math::max);
                        inside.decrementAndGet();
                        counts.give("subject");
                    }
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(maxSeen.get() <= 5, is(true));
        for (int i = 0; i < 5; i++) {
            assertThat("slot " + i + " is free again", counts.take("subject"), is(true));
        }
        assertThat(counts.take("subject"), is(false));
        assertThat("other keys are counted apart", counts.take("other"), is(true));
    }
}
