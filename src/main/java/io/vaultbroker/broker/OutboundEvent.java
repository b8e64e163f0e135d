package io.vaultbroker.broker;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import io.vaultbroker.feed.EventRow;
import io.vaultbroker.stomp.StompEncoder;

/**
 * One event rendered once for all its subscribers: the seed's JSON envelope and the part of the
 * MESSAGE frame that every subscriber shares. Only the subscription (and ack) header differs per
 * subscriber. Immutable, thread-safe.
 */
final class OutboundEvent {
    // JavaScript's toISOString(): UTC, always three fraction digits.
    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    final long id;
    final Destination destination;
    final String messageId;
    final String envelope;
    private final String headers;
    private final String body;

    private OutboundEvent(long id, Destination destination, String messageId, String eventType, String envelope,
                          String extraHeaders) {
        this.id = id;
        this.destination = destination;
        this.messageId = messageId;
        this.envelope = envelope;
        int length = envelope.getBytes(StandardCharsets.UTF_8).length;
        this.headers = "destination:" + StompEncoder.escape(destination.name()) + "\n"
                + "message-id:" + messageId + "\n"
                + "event:" + StompEncoder.escape(eventType) + "\n"
                + "content-type:application/json\n"
                + "content-length:" + length + "\n"
                + extraHeaders;
        this.body = "\n" + envelope + "\0";
    }

    /** A row of the change table. */
    static OutboundEvent of(EventRow row, Destination destination) {
        String envelope = envelope(row.eventType(), row.payloadJson(), row.createdAt());
        return new OutboundEvent(row.id(), destination, Long.toString(row.id()), row.eventType(), envelope,
                row.late() ? "x-late:true\n" : "");
    }

    /** A message that is not a row (health, gap notice); its id starts with a letter. */
    static OutboundEvent notice(String messageId, Destination destination, String eventType, String dataJson,
                                Instant at, String extraHeaders) {
        return new OutboundEvent(-1, destination, messageId, eventType, envelope(eventType, dataJson, at), extraHeaders);
    }

    static String envelope(String eventType, String dataJson, Instant at) {
        return "{\"event\":" + quote(eventType) + ",\"data\":" + dataJson + ",\"timestamp\":\"" + timestamp(at) + "\"}";
    }

    static String timestamp(Instant at) {
        return ISO_MILLIS.format(at);
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
