package io.vaultbroker.broker;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.vaultbroker.feed.EventRow;
import io.vaultbroker.feed.FeedPosition;
import io.vaultbroker.stomp.StompLimits;

/**
 * Routing one row to N subscriptions of one destination through the real Router, Subscription,
 * Session.render and Outbox; the transport discards. In this package because broker internals
 * are package-private (same package on the class path, no JPMS). The outbox bound is lifted so
 * that drainers falling behind the benchmark loop cannot end sessions; the drainers (virtual
 * threads) compete for the same cores, as in the broker. Benchmark state is per trial, one thread.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RouterBench {
    static final String PUBKEY = "HjxQC5jmM8JQrKmVLz29fvaVU428BQ3NzM7a3uQECt9m";
    static final String PAYLOAD = "{\"owner\":\"" + PUBKEY + "\",\"txId\":\"5eed00001234\",\"kind\":\"deposit\","
            + "\"amount\":\"1234.500000\",\"slot\":280001234}";

    @Param({"1", "2", "100", "2000"})
    public int subscribers;

    private Broker broker;
    private Router router;
    private long id;
    final LongAdder sent = new LongAdder();

    /** A transport that counts and drops what it is given. Thread-safe (a LongAdder). */
    final class Discard implements Transport {
        @Override
        public void send(String text) {
            sent.increment();
        }

        @Override
        public void close(int code, String reason) {
        }

        @Override
        public void abort() {
        }

        @Override
        public String remoteAddress() {
            return "127.0.0.1";
        }
    }

    /** A session that only renders; its protocol hooks do nothing. Same threading as Session. */
    static final class BenchSession extends Session {
        BenchSession(Broker broker, Transport transport, String id) {
            super(broker, transport, id, true);
        }

        @Override
        String render(Subscription s, OutboundEvent e, String extraHeaders) {
            return e.frame(s.subscriptionLine, s.clientAck, extraHeaders);
        }

        @Override
        void tick(long nowNanos, java.time.Instant wallClock) {
        }

        @Override
        String protocol() {
            return "bench";
        }

        @Override
        void slowConsumer() {
            throw new IllegalStateException("slow consumer in a benchmark with an unbounded outbox");
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
    }

    @Setup(Level.Trial)
    public void setup() {
        BrokerSettings s = new BrokerSettings("bench", StompLimits.DEFAULTS, Duration.ofSeconds(10), 10_000,
                Duration.ofSeconds(5), 64, 32, 0, Duration.ofHours(24), Integer.MAX_VALUE, Long.MAX_VALUE, 10_000, 8);
        broker = new Broker(s, null, null);
        router = broker.router();
        Destination d = Destination.parse("/user/" + PUBKEY + "/tx").orElseThrow();
        for (int i = 0; i < subscribers; i++) {
            Session session = new BenchSession(broker, new Discard(), "s" + i);
            router.subscribe(new Subscription(session, "1", d, false), null);
        }
    }

    @TearDown(Level.Iteration)
    public void drain() throws InterruptedException {
        // Let queued frames drain between iterations so backlog from one does not bill the next.
        Thread.sleep(200);
    }

    @Benchmark
    public long deliverOneRow() {
        long next = ++id;
        EventRow row = new EventRow(next, "transaction_confirmed", PUBKEY, PAYLOAD,
                Instant.ofEpochMilli(1_765_229_400_000L + next), false);
        router.deliver(List.of(row), new FeedPosition(next, List.of()));
        return next;
    }
}
