package io.vaultbroker.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

/**
 * Subscribe and unsubscribe racing the router's reads: no subscription is lost or duplicated,
 * and a reader never sees a half-changed array.
 */
class SubscriptionRegistryTest {
    private static final Destination DEST = Destination.forEvent("balance_update", "owner1");

    @Test
    void concurrentChangesWhileTheRouterReads() throws Exception {
        SubscriptionRegistry registry = new SubscriptionRegistry();
        int threads = 8;
        int each = 2_000;
        List<Subscription> kept = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        AtomicBoolean reading = new AtomicBoolean(true);
        AtomicLong badReads = new AtomicLong();
        Thread reader = Thread.ofPlatform().start(() -> {
            while (reading.get()) {
                for (Subscription s : registry.get(DEST.name())) {
                    if (s == null || s.destination != DEST) {
                        badReads.incrementAndGet();
                    }
                }
            }
        });
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < threads; w++) {
            Subscription keep = new Subscription(null, "keep" + w, DEST, false);
            kept.add(keep);
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                registry.add(keep);
                for (int i = 0; i < each; i++) {
                    Subscription s = new Subscription(null, "t" + i, DEST, false);
                    registry.add(s);
                    registry.remove(s);
                }
            }));
        }
        go.countDown();
        for (Thread t : workers) {
            t.join();
        }
        reading.set(false);
        reader.join();

        Subscription[] left = registry.get(DEST.name());
        assertThat(left.length, is(threads));
        assertThat(List.of(left).containsAll(kept), is(true));
        assertThat(registry.count(Destination.Kind.USER_BALANCE), is(threads));
        assertThat(badReads.get(), is(0L));

        kept.forEach(registry::remove);
        assertThat(registry.get(DEST.name()).length, is(0));
        assertThat(registry.count(Destination.Kind.USER_BALANCE), is(0));
    }
}
