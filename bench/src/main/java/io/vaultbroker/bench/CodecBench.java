package io.vaultbroker.bench;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompDecoder;
import io.vaultbroker.stomp.StompEncoder;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;
import io.vaultbroker.stomp.StompLimits;

/**
 * STOMP codec cost per frame: decoding a client SUBSCRIBE (what the broker parses) and a MESSAGE
 * (what a client parses), and encoding a MESSAGE. One benchmark thread; state per thread.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBench {
    static final String PUBKEY = "HjxQC5jmM8JQrKmVLz29fvaVU428BQ3NzM7a3uQECt9m";
    static final String BODY = "{\"event\":\"balance_update\",\"data\":{\"owner\":\"" + PUBKEY + "\",\"asset\":\"USDC\","
            + "\"balance\":\"1234567.250000\",\"available\":\"90000.000000\",\"locked\":\"4567.250000\"},"
            + "\"timestamp\":\"2025-12-08T21:30:00.000Z\"}";

    private StompDecoder decoder;
    private byte[] subscribe;
    private byte[] message;
    private StompFrame messageFrame;

    @Setup
    public void setup() {
        decoder = new StompDecoder(StompLimits.DEFAULTS);
        subscribe = StompEncoder.encodeBytes(StompFrame.of(StompCommand.SUBSCRIBE, StompHeaders.of(
                "id", "sub-0", "destination", "/user/" + PUBKEY + "/balance", "ack", "auto", "receipt", "r-1")));
        messageFrame = StompFrame.of(StompCommand.MESSAGE, StompHeaders.of(
                "destination", "/user/" + PUBKEY + "/balance", "subscription", "sub-0", "message-id", "123456789",
                "event", "balance_update", "content-type", "application/json"), BODY);
        message = StompEncoder.encodeBytes(messageFrame);
    }

    @Benchmark
    public List<StompDecoder.Decoded> decodeSubscribe() {
        return decoder.feed(subscribe);
    }

    @Benchmark
    public List<StompDecoder.Decoded> decodeMessage() {
        return decoder.feed(message);
    }

    @Benchmark
    public String encodeMessageText() {
        return StompEncoder.encode(messageFrame);
    }

    @Benchmark
    public byte[] encodeMessageBytes() {
        return StompEncoder.encodeBytes(messageFrame);
    }

    /** What a text WebSocket message costs on the way in: the broker turns it into bytes first. */
    @Benchmark
    public List<StompDecoder.Decoded> decodeSubscribeFromText() {
        return decoder.feed(new String(subscribe, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8));
    }
}
