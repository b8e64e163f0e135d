package io.vaultbroker.broker;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import io.vaultbroker.feed.EventRow;
import io.vaultbroker.stomp.StompEncoder;

/**
 * One event rendered once for all its subscribers: the seed's JSON envelope and the part of the
 * MESSAGE frame that every subscriber shares. Only the subscription (and ack) header differs per
 * subscriber. A row whose MESSAGE would exceed the one-MESSAGE limit is rendered as the
 * oversized notice instead (DESIGN.md §2), so its size is decided here, once per row, on what
 * every subscriber shares: the frame without the subscription and ack lines (those are a few
 * bytes, and a row is then oversized for all its subscribers alike, on both endpoints).
 * Immutable, thread-safe.
 */
final class OutboundEvent {
    // JavaScript's toISOString(): UTC, always three fraction digits.
    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final int FRAME_OVERHEAD = "MESSAGE\n".length() + "\n".length() + 1;

    final long id;
    final Destination destination;
    final String messageId;
    final String envelope;
    /** True for a row the feed delivers after it had stopped waiting for it (x-late). */
    final boolean late;
    /** The row's MESSAGE size that was over the limit, when this is the oversized notice; else 0. */
    final long oversized;
    /** UTF-8 bytes of the MESSAGE frame without the per-subscriber lines. */
    final long frameBytes;
    private final String headers;
    private final String body;

    private OutboundEvent(long id, Destination destination, String messageId, String eventType, String envelope,
                          String extraHeaders, boolean late, long oversized) {
        this.id = id;
        this.destination = destination;
        this.messageId = messageId;
        this.envelope = envelope;
        this.late = late;
        this.oversized = oversized;
        int length = utf8Length(envelope);
        this.headers = headers(destination, messageId, eventType, length) + extraHeaders;
        this.body = "\n" + envelope + "\0";
        this.frameBytes = FRAME_OVERHEAD + utf8Length(headers) + length;
    }

    /** A row of the change table, under the contract's one-MESSAGE limit. */
    static OutboundEvent of(EventRow row, Destination destination) {
        return of(row, destination, BrokerSettings.DEFAULT_MESSAGE_BYTES);
    }

    /** A row of the change table; the oversized notice when its MESSAGE would exceed {@code maxMessageBytes}. */
    static OutboundEvent of(EventRow row, Destination destination, int maxMessageBytes) {
        String at = timestamp(row.createdAt());
        String late = row.late() ? "x-late:true\n" : "";
        String messageId = Long.toString(row.id());
        String envelope = envelope(row.eventType(), row.payloadJson(), at);
        int length = utf8Length(envelope);
        long size = FRAME_OVERHEAD + utf8Length(headers(destination, messageId, row.eventType(), length) + late) + length;
        if (size <= maxMessageBytes) {
            return new OutboundEvent(row.id(), destination, messageId, row.eventType(), envelope, late, row.late(), 0);
        }
        // The client learns which row to fetch elsewhere; the payload is never held twice.
        String notice = "{\"event\":" + quote(row.eventType()) + ",\"data\":null,\"oversized\":" + size
                + ",\"timestamp\":\"" + at + "\"}";
        return new OutboundEvent(row.id(), destination, messageId, row.eventType(), notice,
                "x-oversized:" + size + "\n" + late, row.late(), size);
    }

    /** A message that is not a row (health, gap notice); its id starts with a letter. */
    static OutboundEvent notice(String messageId, Destination destination, String eventType, String dataJson,
                                Instant at, String extraHeaders) {
        return new OutboundEvent(-1, destination, messageId, eventType, envelope(eventType, dataJson, at), extraHeaders,
                false, 0);
    }

    private static String headers(Destination destination, String messageId, String eventType, int contentLength) {
        return "destination:" + StompEncoder.escape(destination.name()) + "\n"
                + "message-id:" + messageId + "\n"
                + "event:" + StompEncoder.escape(eventType) + "\n"
                + "content-type:application/json\n"
                + "content-length:" + contentLength + "\n";
    }

    private static String envelope(String eventType, String dataJson, String timestamp) {
        return "{\"event\":" + quote(eventType) + ",\"data\":" + dataJson + ",\"timestamp\":\"" + timestamp + "\"}";
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    static String envelope(String eventType, String dataJson, Instant at) {
        return envelope(eventType, dataJson, timestamp(at));
    }

    /**
     * The time as JavaScript writes it. The feed and the store already give a row whose
     * {@code created_at} is not finite the time they read it; an instant no ISO year can hold
     * (what a driver makes of {@code infinity}) gets the current time here too, so that no row's
     * time can stop its delivery.
     */
    static String timestamp(Instant at) {
        try {
            return ISO_MILLIS.format(at);
        } catch (DateTimeException e) {
            return ISO_MILLIS.format(Instant.now());
        }
    }

    static String quote(String s) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
    }

    /** The envelope with the row id added, for the seed-compatible endpoint. */
    String envelopeWithId() {
        return envelope.substring(0, envelope.length() - 1) + ",\"id\":" + id + "}";
    }

    /** The MESSAGE frame for one subscriber. */
    String frame(String subscriptionLine, boolean withAck, String extraHeaders) {
        StringBuilder sb = new StringBuilder(16 + subscriptionLine.length() + headers.length() + body.length()
                + (withAck ? 16 + messageId.length() : 0) + extraHeaders.length());
        sb.append("MESSAGE\n").append(subscriptionLine);
        if (withAck) {
            sb.append("ack:").append(messageId).append('\n');
        }
        return sb.append(headers).append(extraHeaders).append(body).toString();
    }
}
