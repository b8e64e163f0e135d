package io.vaultbroker.broker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

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
    final LongAdder deliveryFailures = new LongAdder();
    final LongAdder oversizedMessages = new LongAdder();
    final LongAdder replaysTruncated = new LongAdder();
    final AtomicInteger sessions = new AtomicInteger();
    private final Map<String, LongAdder> authFailures = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> limitHits = new ConcurrentHashMap<>();
    private volatile BiConsumer<String, String> newKeyListener = (map, key) -> { };

    void authFailure(String category) {
        adder(authFailures, AUTH_FAILURES, category).increment();
    }

    void limitHit(String limit) {
        adder(limitHits, LIMIT_HITS, limit).increment();
    }

    /** The name {@link #onNewKey} reports for a new auth failure reason. */
    public static final String AUTH_FAILURES = "auth-failures";
    /** The name {@link #onNewKey} reports for a new limit. */
    public static final String LIMIT_HITS = "limit-hits";

    /**
     * Called (on the counting thread, after the counter exists) the first time a reason or limit
     * is counted, so metrics can register a meter for it; keys seen before are reported at once.
     */
    public void onNewKey(BiConsumer<String, String> listener) {
        newKeyListener = listener;
        authFailures.keySet().forEach(k -> listener.accept(AUTH_FAILURES, k));
        limitHits.keySet().forEach(k -> listener.accept(LIMIT_HITS, k));
    }

    /** Counts of one auth failure reason (0 when never seen). */
    public long authFailures(String category) {
        LongAdder a = authFailures.get(category);
        return a == null ? 0 : a.sum();
    }

    /** Hits of one limit (0 when never hit). */
    public long limitHits(String limit) {
        LongAdder a = limitHits.get(limit);
        return a == null ? 0 : a.sum();
    }

    private LongAdder adder(Map<String, LongAdder> map, String mapName, String key) {
        LongAdder a = map.get(key);
        if (a != null) {
            return a;
        }
        LongAdder fresh = new LongAdder();
        a = map.putIfAbsent(key, fresh);
        if (a != null) {
            return a;
        }
        newKeyListener.accept(mapName, key);
        return fresh;
    }

    /** STOMP frames received (heart-beats excluded). */
    public long framesIn() {
        return framesIn.sum();
    }

    /** Messages queued for clients: every STOMP frame but heart-beats, every JSON message of /ws. */
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

    /**
     * Deliveries that failed and were skipped so the rest went on: a row that could not be
     * rendered (counted once for all its subscribers), or one subscriber's delivery of a row.
     */
    public long deliveryFailures() {
        return deliveryFailures.sum();
    }

    /** Rows sent as the oversized notice instead of their MESSAGE: live (once per row), and per snapshot or replay. */
    public long oversizedMessages() {
        return oversizedMessages.sum();
    }

    /** Replays cut to their bound (rows, bytes or the session's outbox room): each began with the gap notice. */
    public long replaysTruncated() {
        return replaysTruncated.sum();
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
