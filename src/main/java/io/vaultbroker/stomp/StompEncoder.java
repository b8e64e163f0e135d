package io.vaultbroker.stomp;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Writes STOMP 1.2 frames. The text form is for WebSocket text messages, the byte form for binary ones.
 * <p>Stateless, thread-safe.
 */
public final class StompEncoder {

    /** A heart-beat is a lone EOL between frames. */
    public static final String HEARTBEAT = "\n";

    private static final String CONTENT_LENGTH = "content-length";

    private StompEncoder() {
    }

    /**
     * The frame as text, including the trailing NUL.
     *
     * @throws IllegalArgumentException if the body is not valid UTF-8 (a text message could not carry it
     *                                  byte-exactly, so content-length would lie; use {@link #encodeBytes}),
     *                                  or if a CONNECT/CONNECTED/STOMP header cannot be written unescaped
     */
    public static String encode(StompFrame frame) {
        String head = head(frame);
        byte[] body = frame.body();
        if (body.length == 0) {
            return head + '\0';
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("body is not valid UTF-8; encode it with encodeBytes", e);
        }
        return head + text + '\0';
    }

    /**
     * The frame as UTF-8 bytes, including the trailing NUL; the body is copied verbatim.
     *
     * @throws IllegalArgumentException if a CONNECT/CONNECTED/STOMP header cannot be written unescaped
     */
    public static byte[] encodeBytes(StompFrame frame) {
        byte[] head = head(frame).getBytes(StandardCharsets.UTF_8);
        byte[] body = frame.body();
        byte[] out = new byte[head.length + body.length + 1];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(body, 0, out, head.length, body.length);
        // the last byte is already the NUL terminator
        return out;
    }

    /** STOMP 1.2 header escaping: backslash, LF, CR and colon become {@code \\ \n \r \c}. */
    public static String escape(String headerValueOrName) {
        int n = headerValueOrName.length();
        int i = 0;
        while (i < n && !needsEscape(headerValueOrName.charAt(i))) {
            i++;
        }
        if (i == n) {
            return headerValueOrName;
        }
        StringBuilder sb = new StringBuilder(n + 8).append(headerValueOrName, 0, i);
        appendEscaped(sb, headerValueOrName, i);
        return sb.toString();
    }

    private static boolean needsEscape(char c) {
        return c == '\\' || c == '\n' || c == '\r' || c == ':';
    }

    private static void appendEscaped(StringBuilder sb, String s, int from) {
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case ':' -> sb.append("\\c");
                default -> sb.append(c);
            }
        }
    }

    // Command line, header lines and the blank line.
    private static String head(StompFrame frame) {
        StompCommand command = frame.command();
        StompHeaders headers = frame.headers();
        boolean escape = command.escapesHeaders();
        StringBuilder sb = new StringBuilder(32 + 32 * headers.size());
        sb.append(command.name()).append('\n');
        boolean hasLength = false;
        for (int i = 0; i < headers.size(); i++) {
            String name = headers.nameAt(i);
            String value = headers.valueAt(i);
            hasLength |= CONTENT_LENGTH.equals(name);
            if (escape) {
                appendEscaped(sb, name, 0);
                sb.append(':');
                appendEscaped(sb, value, 0);
            } else {
                checkRaw(command, name, value);
                sb.append(name).append(':').append(value);
            }
            sb.append('\n');
        }
        if (!hasLength && frame.body().length > 0) {
            sb.append(CONTENT_LENGTH).append(':').append(frame.body().length).append('\n');
        }
        return sb.append('\n').toString();
    }

    // Unescaped frames have no way to carry these characters; writing them would corrupt the frame.
    private static void checkRaw(StompCommand command, String name, String value) {
        if (name.indexOf(':') >= 0 || name.indexOf('\n') >= 0 || name.indexOf('\r') >= 0
                || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
            throw new IllegalArgumentException(command + " headers are not escaped, so they cannot contain "
                                                       + "line breaks (or a colon in the name): " + name);
        }
    }
}
