package io.vaultbroker.broker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The broker's counters, for metrics. Thread-safe: adders and concurrent maps, written from any thread.
 */
public final class BrokerStats {
    final LongAdder framesIn = new LongAdder();
    final LongAdder framesOut = new LongAdder();
    final LongAdder eventsRouted = new LongAdder();
    final LongAdder eventsUnrouted = new LongAdder();
    final LongAdder messagesDelivered = new LongAdder();
    final LongAdder slowConsumers = new LongAdder();
    final AtomicInteger sessions = new AtomicInteger();
    private final Map<String, LongAdder> authFailures = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> limitHits = new ConcurrentHashMap<>();

    void authFailure(String category) {
        authFailures.computeIfAbsent(category, k -> new LongAdder()).increment();
    }

    void limitHit(String limit) {
        limitHits.computeIfAbsent(limit, k -> new LongAdder()).increment();
    }

    /** STOMP frames received (heart-beats excluded). */
    public long framesIn() {
        return framesIn.sum();
    }

    /** Frames queued for sending (MESSAGE, RECEIPT, ERROR, CONNECTED). */
    public long framesOut() {
        return framesOut.sum();
    }

    /** Rows that had a destination. */
    public long eventsRouted() {
        return eventsRouted.sum();
    }

    /** Rows whose event type routes nowhere. */
    public long eventsUnrouted() {
        return eventsUnrouted.sum();
    }

    /** MESSAGE frames queued to subscribers. */
    public long messagesDelivered() {
        return messagesDelivered.sum();
    }

    /** Sessions closed as slow consumers. */
    public long slowConsumers() {
        return slowConsumers.sum();
    }

    /** Sessions open now (connected or not). */
    public int sessions() {
        return sessions.get();
    }

    /** Authentication failures by reason category. */
    public Map<String, Long> authFailures() {
        return snapshot(authFailures);
    }

    /** Limit hits by limit name. */
    public Map<String, Long> limitHits() {
        return snapshot(limitHits);
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> m) {
        Map<String, Long> out = new java.util.TreeMap<>();
        m.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
