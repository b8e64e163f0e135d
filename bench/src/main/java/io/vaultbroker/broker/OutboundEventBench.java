package io.vaultbroker.broker;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Blackhole;

import io.vaultbroker.feed.EventRow;

/**
 * Serialising one event once (OutboundEvent.of: envelope, shared headers) and then its MESSAGE
 * frame per subscriber (OutboundEvent.frame), for N subscribers. Package-private internals, so it
 * lives in the broker's package. State per thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class OutboundEventBench {
    @Param({"1", "2", "100"})
    public int subscribers;

    private EventRow row;
    private Destination destination;
    private String[] lines;

    @Setup
    public void setup() {
        row = new EventRow(123_456_789L, "balance_update", RouterBench.PUBKEY,
                "{\"owner\":\"" + RouterBench.PUBKEY + "\",\"asset\":\"USDC\",\"balance\":\"1234567.250000\","
                        + "\"available\":\"90000.000000\",\"locked\":\"4567.250000\"}",
                Instant.parse("2025-12-08T21:30:00.123Z"), false);
        destination = Destination.parse("/user/" + RouterBench.PUBKEY + "/balance").orElseThrow();
        lines = new String[subscribers];
        for (int i = 0; i < subscribers; i++) {
            lines[i] = "subscription:sub-" + i + "\n";
        }
    }

    @Benchmark
    public OutboundEvent renderOnce() {
        return OutboundEvent.of(row, destination);
    }

    @Benchmark
    public void renderOnceFramePerSubscriber(Blackhole bh) {
        OutboundEvent e = OutboundEvent.of(row, destination);
        for (String line : lines) {
            bh.consume(e.frame(line, false, ""));
        }
    }

    /** The routing lookup alone: the destination a row maps to, built per row. */
    @Benchmark
    public Destination destinationForEvent() {
        return Destination.forEvent(row.eventType(), row.owner());
    }
}
