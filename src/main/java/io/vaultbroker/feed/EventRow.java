package io.vaultbroker.feed;

import java.time.Instant;

/**
 * One committed row of {@code vault_events}, as the feed hands it on.
 * Immutable, thread-safe.
 *
 * @param id         the row id; ids of one destination are delivered in increasing order
 * @param eventType  the producer's event type
 * @param owner      the owner's pubkey, or {@code null} for platform-wide events
 * @param payloadJson the row's {@code payload} as PostgreSQL prints it, so numbers stay exact
 * @param createdAt  the row's {@code created_at}
 * @param late       true when the row committed after the feed had given up waiting for it
 */
public record EventRow(long id, String eventType, String owner, String payloadJson, Instant createdAt, boolean late) {
}
