package io.vaultbroker.stomp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Incremental STOMP 1.2 frame decoder over UTF-8 bytes.
 * <p>Input may be cut anywhere: a frame can span many {@link #feed} calls, and one call can complete several
 * frames and heart-beats. Malformed or oversized input yields a {@link Failure} value rather than an exception,
 * after which the decoder is dead (the caller sends ERROR and closes). Memory held is bounded by the limits,
 * whatever the input: every limit is checked before the bytes that would exceed it are buffered.
 * <p>Not thread-safe: one decoder per session, used by that session's reader only.
 */
public final class StompDecoder {

    /** What one {@link #feed} call produced, in input order. Implementations are immutable, thread-safe. */
    public sealed interface Decoded permits Frame, HeartBeat, Failure {
    }

    /** A complete frame. */
    public record Frame(StompFrame frame) implements Decoded {
    }

    /** One EOL seen between frames. */
    public record HeartBeat() implements Decoded {
    }

    /** Decoding stopped; {@code reason} is short and safe to send back in an ERROR frame's message header. */
    public record Failure(String reason) implements Decoded {
    }

    private enum State { COMMAND, HEADERS, BODY_LENGTH, BODY_NUL, EXPECT_NUL, FAILED }

    private static final HeartBeat HEART_BEAT = new HeartBeat();
    private static final byte[] NO_BYTES = new byte[0];
    // Small enough to keep per idle session, big enough for typical SUBSCRIBE/ACK header lines.
    private static final int INITIAL_LINE = 128;
    private static final int MIN_BODY = 64;
    private static final String CONTENT_LENGTH = "content-length";

    private final int maxFrame;
    private final int maxHeaders;
    private final int maxLine;
    // A line may hold one byte past maxLine: a CR we only know to be part of the EOL once LF arrives.
    private final int maxLineCapacity;

    private State state = State.COMMAND;
    private byte[] line;
    private int lineLen;
    // Bytes of the current frame so far: command line, header lines, EOLs and body.
    private int frameBytes;

    private StompCommand command;
    private String[] headers = new String[8];
    private int headerCount;
    private int contentLength;

    private byte[] body;
    private int bodyLen;
    private int bodyCap;

    private ArrayList<Decoded> out;

    public StompDecoder(StompLimits limits) {
        this.maxFrame = limits.maxFrameBytes();
        this.maxHeaders = limits.maxHeaders();
        this.maxLine = limits.maxHeaderLineBytes();
        // no line can be longer than the frame either, so do not reserve room for one
        this.maxLineCapacity = Math.min(maxLine, maxFrame) + 1;
        this.line = new byte[Math.min(INITIAL_LINE, maxLineCapacity)];
    }

    /**
     * Feeds the next chunk (e.g. one WebSocket message or a fragment of one); returns what completed, in order.
     * Never throws for any byte content; returns an empty list once {@link #failed()}.
     *
     * @return a new list owned by the caller; a {@link Failure}, if any, is the last element
     * @throws IndexOutOfBoundsException if offset/length do not describe a range of {@code data}
     */
    public List<Decoded> feed(byte[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, data.length);
        if (state == State.FAILED || length == 0) {
            return List.of();
        }
        try {
            run(data, offset, offset + length);
        } catch (RuntimeException e) {
            // A bug here must not take the session's reader thread down; report it like bad input.
            fail("malformed frame");
        }
        List<Decoded> result = out == null ? List.of() : out;
        out = null;
        return result;
    }

    public List<Decoded> feed(byte[] data) {
        return feed(data, 0, data.length);
    }

    /** True once a {@link Failure} has been returned; the decoder then ignores all input. */
    public boolean failed() {
        return state == State.FAILED;
    }

    /** Bytes of buffer currently allocated for partial input; lets tests check memory stays bounded. */
    int bufferedBytes() {
        return line.length + (body == null ? 0 : body.length);
    }

    private void run(byte[] d, int i, int end) {
        while (i < end) {
            switch (state) {
                case COMMAND, HEADERS -> i = readLine(d, i, end);
                case BODY_LENGTH -> {
                    int n = Math.min(end - i, contentLength - bodyLen);
                    System.arraycopy(d, i, body, bodyLen, n);
                    bodyLen += n;
                    frameBytes += n;
                    i += n;
                    if (bodyLen == contentLength) {
                        state = State.EXPECT_NUL;
                    }
                }
                case EXPECT_NUL -> {
                    if (d[i++] == 0) {
                        completeFrame();
                    } else {
                        fail("missing NUL after body");
                    }
                }
                case BODY_NUL -> i = readBodyUntilNul(d, i, end);
                case FAILED -> {
                    return;
                }
            }
        }
    }

    private int readLine(byte[] d, int i, int end) {
        while (i < end) {
            byte b = d[i++];
            frameBytes++;
            if (b == '\n') {
                lineComplete();
                return i;
            }
            if (b == 0) {
                // NUL ends a frame; inside the command or headers it means the frame is cut short
                fail("malformed frame");
                return i;
            }
            if (lineLen >= maxLineCapacity) {
                fail("header line too long");
                return i;
            }
            if (frameBytes > maxFrame) {
                fail("frame too large");
                return i;
            }
            if (lineLen == line.length) {
                line = Arrays.copyOf(line, Math.min(line.length * 2, maxLineCapacity));
            }
            line[lineLen++] = b;
        }
        return i;
    }

    private void lineComplete() {
        int len = lineLen;
        if (len > 0 && line[len - 1] == '\r') {
            len--;
        }
        lineLen = 0;
        if (state == State.COMMAND && len == 0) {
            frameBytes = 0;
            emit(HEART_BEAT);
            return;
        }
        if (len > maxLine) {
            fail("header line too long");
        } else if (frameBytes > maxFrame) {
            fail("frame too large");
        } else if (state == State.COMMAND) {
            commandLine(len);
        } else if (len == 0) {
            endOfHeaders();
        } else {
            headerLine(len);
        }
    }

    private void commandLine(int len) {
        if (!Utf8.isValid(line, 0, len)) {
            fail("invalid UTF-8");
            return;
        }
        command = StompCommand.fromAscii(line, 0, len);
        if (command == null) {
            fail("unknown command");
            return;
        }
        headerCount = 0;
        contentLength = -1;
        state = State.HEADERS;
    }

    private void headerLine(int len) {
        if (headerCount >= maxHeaders) {
            fail("too many headers");
            return;
        }
        // Split on the first colon only: values may contain colons (raw in CONNECT, or in URLs).
        // Byte-level search is safe because 0x3A never occurs inside a multi-byte UTF-8 sequence.
        int colon = 0;
        while (colon < len && line[colon] != ':') {
            colon++;
        }
        if (colon == 0 || colon == len) {
            fail("malformed header");
            return;
        }
        int nameEnd = colon;
        int valueStart = colon + 1;
        int valueEnd = len;
        if (command.escapesHeaders()) {
            nameEnd = unescapeInPlace(0, colon);
            valueEnd = unescapeInPlace(valueStart, len);
            if (nameEnd < 0 || valueEnd < 0) {
                fail("invalid header escape");
                return;
            }
        }
        if (!Utf8.isValid(line, 0, nameEnd) || !Utf8.isValid(line, valueStart, valueEnd - valueStart)) {
            fail("invalid UTF-8");
            return;
        }
        String name = new String(line, 0, nameEnd, StandardCharsets.UTF_8);
        String value = new String(line, valueStart, valueEnd - valueStart, StandardCharsets.UTF_8);
        if (contentLength < 0 && CONTENT_LENGTH.equals(name)) {
            // only the first content-length counts, like any repeated header
            contentLength = parseLength(value);
            if (contentLength == -1) {
                fail("invalid content-length");
                return;
            }
            if (contentLength > maxFrame) {
                fail("frame too large");
                return;
            }
        }
        if (2 * headerCount + 2 > headers.length) {
            headers = Arrays.copyOf(headers, headers.length * 2);
        }
        headers[2 * headerCount] = name;
        headers[2 * headerCount + 1] = value;
        headerCount++;
    }

    /** Unescapes {@code line[from, to)} leftwards in place; returns the new end, or -1 on an undefined escape. */
    private int unescapeInPlace(int from, int to) {
        int w = from;
        for (int r = from; r < to; r++) {
            byte b = line[r];
            if (b == '\\') {
                if (++r == to) {
                    return -1;
                }
                b = switch (line[r]) {
                    case 'n' -> (byte) '\n';
                    case 'r' -> (byte) '\r';
                    case 'c' -> (byte) ':';
                    case '\\' -> (byte) '\\';
                    default -> 0;
                };
                if (b == 0) {
                    return -1;
                }
            }
            line[w++] = b;
        }
        return w;
    }

    /** Non-negative decimal int, or -1. */
    private static int parseLength(String s) {
        if (s.isEmpty() || s.length() > 10) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v > Integer.MAX_VALUE ? -1 : (int) v;
    }

    private void endOfHeaders() {
        if (line.length > INITIAL_LINE) {
            // a long header line should not keep its buffer alive alongside a large body
            line = new byte[INITIAL_LINE];
        }
        if (contentLength >= 0) {
            if ((long) frameBytes + contentLength > maxFrame) {
                fail("frame too large");
                return;
            }
            bodyLen = 0;
            if (contentLength == 0) {
                body = NO_BYTES;
                state = State.EXPECT_NUL;
            } else {
                body = new byte[contentLength];
                state = State.BODY_LENGTH;
            }
        } else {
            body = null;
            bodyLen = 0;
            bodyCap = maxFrame - frameBytes;
            state = State.BODY_NUL;
        }
    }

    private int readBodyUntilNul(byte[] d, int i, int end) {
        // Never look further than one byte past what the limit allows, so a huge chunk fails without a full scan.
        int scanEnd = (int) Math.min(end, (long) i + (bodyCap - bodyLen) + 1);
        int j = i;
        while (j < scanEnd && d[j] != 0) {
            j++;
        }
        int n = j - i;
        if (bodyLen + n > bodyCap) {
            fail("frame too large");
            return end;
        }
        appendBody(d, i, n);
        frameBytes += n;
        if (j < end && d[j] == 0) {
            completeFrame();
            return j + 1;
        }
        return j;
    }

    private void appendBody(byte[] d, int from, int n) {
        if (n == 0) {
            return;
        }
        int needed = bodyLen + n;
        if (body == null || body.length < needed) {
            int cap = body == null ? MIN_BODY : body.length * 2;
            cap = Math.max(needed, Math.min(cap, bodyCap));
            body = body == null ? new byte[cap] : Arrays.copyOf(body, cap);
        }
        System.arraycopy(d, from, body, bodyLen, n);
        bodyLen = needed;
    }

    private void completeFrame() {
        byte[] b;
        if (body == null || bodyLen == 0) {
            b = NO_BYTES;
        } else if (body.length == bodyLen) {
            b = body;
        } else {
            b = Arrays.copyOf(body, bodyLen);
        }
        StompHeaders h = headerCount == 0
                ? StompHeaders.EMPTY
                : new StompHeaders(Arrays.copyOf(headers, 2 * headerCount), headerCount);
        emit(new Frame(new StompFrame(command, h, b)));
        resetFrame();
        state = State.COMMAND;
    }

    private void resetFrame() {
        // drop references so an idle session does not pin the last frame's strings and body
        Arrays.fill(headers, 0, 2 * headerCount, null);
        headerCount = 0;
        command = null;
        body = null;
        bodyLen = 0;
        frameBytes = 0;
        lineLen = 0;
    }

    private void fail(String reason) {
        resetFrame();
        line = NO_BYTES;
        state = State.FAILED;
        emit(new Failure(reason));
    }

    private void emit(Decoded d) {
        if (out == null) {
            out = new ArrayList<>(4);
        }
        out.add(d);
    }
}
