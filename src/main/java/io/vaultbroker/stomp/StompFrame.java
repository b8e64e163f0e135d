package io.vaultbroker.stomp;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One STOMP frame. The body is raw bytes because STOMP bodies may be binary and content-length counts bytes.
 * <p>Immutable and thread-safe as long as nobody writes into {@link #body()}: the array is shared, not copied,
 * so that a decoded or broadcast body is never duplicated per frame.
 *
 * @param command frame command
 * @param headers frame headers
 * @param body    body bytes, empty when there is none (null is taken as empty)
 */
public record StompFrame(StompCommand command, StompHeaders headers, byte[] body) {

    private static final byte[] NO_BODY = new byte[0];

    public StompFrame {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(headers, "headers");
        if (body == null) {
            body = NO_BODY;
        }
    }

    public static StompFrame of(StompCommand c, StompHeaders h) {
        return new StompFrame(c, h, NO_BODY);
    }

    public static StompFrame of(StompCommand c, StompHeaders h, String utf8Body) {
        return new StompFrame(c, h, utf8Body.isEmpty() ? NO_BODY : utf8Body.getBytes(StandardCharsets.UTF_8));
    }

    /** First value of the header, or null. */
    public String header(String name) {
        return headers.get(name);
    }

    /** Body decoded as UTF-8; malformed bytes become U+FFFD. */
    public String bodyAsString() {
        return new String(body, StandardCharsets.UTF_8);
    }

    // A record compares arrays by identity; frames are values, so compare body content instead.
    @Override
    public boolean equals(Object o) {
        return o instanceof StompFrame f
                && command == f.command
                && headers.equals(f.headers)
                && Arrays.equals(body, f.body);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * command.hashCode() + headers.hashCode()) + Arrays.hashCode(body);
    }

    @Override
    public String toString() {
        return "StompFrame[" + command + " " + headers + " body=" + body.length + " bytes]";
    }
}
