package io.vaultbroker.stomp;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * STOMP 1.2 frame commands, client and server.
 * <p>Immutable, thread-safe.
 */
public enum StompCommand {
    CONNECT, STOMP, CONNECTED, SEND, SUBSCRIBE, UNSUBSCRIBE, ACK, NACK, BEGIN, COMMIT, ABORT, DISCONNECT,
    MESSAGE, RECEIPT, ERROR;

    private static final StompCommand[] VALUES = values();

    // Kept as bytes so the decoder can match a command line without building a String.
    private final byte[] ascii = name().getBytes(StandardCharsets.US_ASCII);

    /**
     * Exact, case-sensitive lookup; STOMP commands are not case-insensitive.
     *
     * @param s command text, may be null
     * @return the command, or empty if {@code s} is not one
     */
    public static Optional<StompCommand> parse(String s) {
        if (s == null) {
            return Optional.empty();
        }
        for (StompCommand c : VALUES) {
            if (c.name().equals(s)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    /** Command matching {@code bytes[off, off+len)} exactly, or null. */
    static StompCommand fromAscii(byte[] bytes, int off, int len) {
        for (StompCommand c : VALUES) {
            byte[] a = c.ascii;
            if (a.length == len && java.util.Arrays.equals(a, 0, len, bytes, off, off + len)) {
                return c;
            }
        }
        return null;
    }

    /**
     * Whether header names and values are escaped in this frame. STOMP 1.2 exempts CONNECT and CONNECTED
     * for 1.0 compatibility; STOMP is the 1.2 alias of CONNECT, so it is exempt too.
     */
    boolean escapesHeaders() {
        return this != CONNECT && this != CONNECTED && this != STOMP;
    }
}
