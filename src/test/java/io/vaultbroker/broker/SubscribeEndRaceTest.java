package io.vaultbroker.broker;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.vaultbroker.auth.Authenticators;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A SUBSCRIBE racing the end of its session (the peer closing, a slow-consumer cut on another
 * thread) must leave nothing of the ended session in the router's registry: decided by racing
 * the two many times, started together on a barrier.
 */
class SubscribeEndRaceTest {
    private static final String OWNER = "HjxQC5jmM8JQrKmVLz29fvaVU428BQ3NzM7a3uQECt9m";
    private static final int ITERATIONS = 3000;
    private final Broker broker = new Broker(BrokerSettings.defaults("test"),
            Authenticators.create(Config.just(ConfigSources.create(Map.of("mode", "none"))), null, Clock.systemUTC()),
            null);
    private final ExecutorService threads = Executors.newFixedThreadPool(2);

    @AfterEach
    void stop() {
        threads.shutdownNow();
    }

    @Test
    void stompSubscribeRacingTheEndLeavesNoSubscription() throws Exception {
        String subscribe = "SUBSCRIBE\nid:t\ndestination:/user/" + OWNER + "/tx\n\n\0"
                + "SUBSCRIBE\nid:h\ndestination:/system/health\n\n\0";
        for (int i = 0; i < ITERATIONS; i++) {
            StompSession s = broker.openStomp(new FakeTransport(), "localhost");
            s.onData(("CONNECT\naccept-version:1.2\nlogin:" + OWNER + "\nheart-beat:0,0\n\n\0")
                    .getBytes(StandardCharsets.UTF_8));
            boolean slow = i % 2 == 0;
            race(() -> s.onData(subscribe.getBytes(StandardCharsets.UTF_8)),
                    slow ? s::slowConsumer : s::onClosed);
            assertNothingLeft(i);
        }
    }

    @Test
    void seedEndpointStartRacingTheCloseLeavesNoSubscription() throws Exception {
        for (int i = 0; i < ITERATIONS; i++) {
            JsonSession s = broker.openJson(new FakeTransport());
            // Resuming at the feed's position (0 here, no feed): nothing to read, so no store is needed.
            race(() -> s.start(OWNER, "any", "0", "localhost"), s::onClosed);
            assertNothingLeft(i);
        }
    }

    private void race(Runnable a, Runnable b) throws Exception {
        CyclicBarrier start = new CyclicBarrier(2);
        Future<?> fa = threads.submit(() -> {
            start.await();
            a.run();
            return null;
        });
        Future<?> fb = threads.submit(() -> {
            start.await();
            b.run();
            return null;
        });
        fa.get(10, TimeUnit.SECONDS);
        fb.get(10, TimeUnit.SECONDS);
    }

    private void assertNothingLeft(int iteration) {
        for (Destination.Kind kind : Destination.Kind.values()) {
            assertEquals(0, broker.subscriptions(kind), "iteration " + iteration + ": a " + kind
                    + " subscription of an ended session is still registered");
        }
    }
}
