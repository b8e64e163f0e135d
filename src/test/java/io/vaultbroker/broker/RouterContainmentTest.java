package io.vaultbroker.broker;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import org.junit.jupiter.api.Test;

import io.vaultbroker.auth.Authenticators;
import io.vaultbroker.feed.EventRow;
import io.vaultbroker.feed.FeedPosition;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * No row stops another (DESIGN.md §2): a row that cannot be rendered, or one subscriber whose
 * delivery fails, costs only that row or that subscriber; the rest of the batch reaches everyone.
 */
class RouterContainmentTest {
    private static final String OWNER = "HjxQC5jmM8JQrKmVLz29fvaVU428BQ3NzM7a3uQECt9m";
    private final Broker broker = new Broker(BrokerSettings.defaults("test"),
            Authenticators.create(Config.just(ConfigSources.create(Map.of("mode", "none"))), null, Clock.systemUTC()),
            null);

    /** A session that writes each row's id, and fails to render one chosen row. */
    static final class RecordingSession extends Session {
        final FakeTransport transport;
        private final long failOn;

        RecordingSession(Broker broker, FakeTransport transport, String id, long failOn) {
            super(broker, transport, id, false);
            this.transport = transport;
            this.failOn = failOn;
        }

        @Override
        String render(Subscription s, OutboundEvent e, String extraHeaders) {
            if (e.id == failOn) {
                throw new IllegalStateException("cannot render row " + e.id + " for this session");
            }
            return Long.toString(e.id);
        }

        List<Long> ids() {
            return transport.sent.stream().map(Long::parseLong).toList();
        }

        @Override
        void tick(long nowNanos, Instant wallClock) {
        }

        @Override
        void slowConsumer() {
        }

        @Override
        void shutdown(long retryAfterMs) {
        }

        @Override
        void catchUpFailed() {
        }

        @Override
        long received() {
            return 0;
        }

        @Override
        String protocol() {
            return "test";
        }
    }

    private static EventRow row(long id, Instant at) {
        return new EventRow(id, "transaction_confirmed", OWNER, "{\"n\":" + id + "}", at, false);
    }

    @Test
    void aRowThatCannotBeRenderedAndASubscriberThatFailsCostOnlyThemselves() throws Exception {
        Destination tx = Destination.parse("/user/" + OWNER + "/tx").orElseThrow();
        List<RecordingSession> sessions = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            // The middle session cannot render row 2.
            RecordingSession s = new RecordingSession(broker, new FakeTransport(), "s" + i, i == 1 ? 2 : -1);
            sessions.add(s);
            broker.router().subscribe(new Subscription(s, "t", tx, false), null);
        }
        Instant now = Instant.now();
        // Row 4 has no time at all: rendering it fails for every subscriber.
        broker.router().deliver(List.of(row(1, now), row(2, now), row(3, now), row(4, null), row(5, now)),
                new FeedPosition(5, List.of()));
        awaitSent(sessions.get(0), 4);
        awaitSent(sessions.get(1), 3);
        awaitSent(sessions.get(2), 4);
        assertEquals(List.of(1L, 2L, 3L, 5L), sessions.get(0).ids());
        assertEquals(List.of(1L, 3L, 5L), sessions.get(1).ids(), "only its failed row is missing");
        assertEquals(List.of(1L, 2L, 3L, 5L), sessions.get(2).ids());
        assertThat("one row that no one could get, one subscriber's delivery", broker.stats().deliveryFailures(), is(2L));
        assertThat(broker.stats().messagesDelivered(), is(3L + 2 + 3 + 3));
    }

    private static void awaitSent(RecordingSession s, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (s.transport.sent.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertThat("messages written to " + s.id, s.transport.sent.size(), is(n));
    }
}
