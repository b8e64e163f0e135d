package io.vaultbroker.broker;

import java.time.Duration;

import io.vaultbroker.stomp.StompLimits;

/**
 * The broker's limits and timings (DESIGN.md §2 defaults). Immutable, thread-safe.
 *
 * @param version                   the version in {@code server:vault-broker/<version>}
 * @param stompLimits               frame, header count and header line limits
 * @param connectTimeout            time from upgrade to CONNECT
 * @param heartbeatMs               what the server offers both ways in CONNECTED
 * @param heartbeatGrace            added to twice the client's interval before a silent session is closed
 * @param maxSubscriptionsPerSession subscriptions one session may hold
 * @param maxSessionsPerSubject     sessions one subject may hold at once
 * @param maxSessionsPerAddress     sessions one remote address may hold after CONNECT (0 = off)
 * @param sessionLifetime           longest a session may live
 * @param outboxFrames              frames queued for one session before it is a slow consumer
 * @param outboxBytes               bytes queued for one session before it is a slow consumer
 * @param replayLimit               rows one x-resume-after replay may send
 * @param replayConcurrency         replays and snapshots running at once
 * @param messageBytes              largest MESSAGE sent; a row over it goes as the oversized notice
 */
public record BrokerSettings(String version, StompLimits stompLimits, Duration connectTimeout, int heartbeatMs,
                             Duration heartbeatGrace, int maxSubscriptionsPerSession, int maxSessionsPerSubject,
                             int maxSessionsPerAddress, Duration sessionLifetime, int outboxFrames, long outboxBytes,
                             int replayLimit, int replayConcurrency, int messageBytes) {

    /** The contract's one-MESSAGE limit: 1 MiB. */
    public static final int DEFAULT_MESSAGE_BYTES = 1024 * 1024;

    /** Settings with the one-MESSAGE limit at its default. */
    public BrokerSettings(String version, StompLimits stompLimits, Duration connectTimeout, int heartbeatMs,
                          Duration heartbeatGrace, int maxSubscriptionsPerSession, int maxSessionsPerSubject,
                          int maxSessionsPerAddress, Duration sessionLifetime, int outboxFrames, long outboxBytes,
                          int replayLimit, int replayConcurrency) {
        this(version, stompLimits, connectTimeout, heartbeatMs, heartbeatGrace, maxSubscriptionsPerSession,
                maxSessionsPerSubject, maxSessionsPerAddress, sessionLifetime, outboxFrames, outboxBytes, replayLimit,
                replayConcurrency, DEFAULT_MESSAGE_BYTES);
    }

    /** The contract defaults. */
    public static BrokerSettings defaults(String version) {
        return new BrokerSettings(version, StompLimits.DEFAULTS, Duration.ofSeconds(10), 10_000, Duration.ofSeconds(5),
                64, 32, 0, Duration.ofHours(24), 10_000, 8L * 1024 * 1024, 10_000, 8,
                DEFAULT_MESSAGE_BYTES);
    }
}
