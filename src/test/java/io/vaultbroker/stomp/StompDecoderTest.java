package io.vaultbroker.stomp;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import io.vaultbroker.stomp.StompDecoder.Decoded;
import io.vaultbroker.stomp.StompDecoder.Failure;
import io.vaultbroker.stomp.StompDecoder.Frame;
import io.vaultbroker.stomp.StompDecoder.HeartBeat;
import org.junit.jupiter.api.Test;

import static io.vaultbroker.stomp.StompTestSupport.decodeChunked;
import static io.vaultbroker.stomp.StompTestSupport.decodeWhole;
import static io.vaultbroker.stomp.StompTestSupport.decoder;
import static io.vaultbroker.stomp.StompTestSupport.failureReason;
import static io.vaultbroker.stomp.StompTestSupport.singleFrame;
import static io.vaultbroker.stomp.StompTestSupport.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.nullValue;

class StompDecoderTest {

    private static final String SUBSCRIBE = "SUBSCRIBE\nid:0\ndestination:/topic/vault.1\nack:client\n\n\0";

    @Test
    void decodesSubscribe() {
        StompFrame f = singleFrame(decodeWhole(SUBSCRIBE));
        assertThat(f.command(), is(StompCommand.SUBSCRIBE));
        assertThat(f.header("id"), is("0"));
        assertThat(f.header("destination"), is("/topic/vault.1"));
        assertThat(f.header("ack"), is("client"));
        assertThat(f.headers().size(), is(3));
        assertThat(f.body().length, is(0));
    }

    @Test
    void acceptsCrLfLineEndings() {
        StompFrame f = singleFrame(decodeWhole("SEND\r\ndestination:/q\r\ncontent-type:text/plain\r\n\r\nhi\0"));
        assertThat(f.command(), is(StompCommand.SEND));
        assertThat(f.header("destination"), is("/q"));
        assertThat(f.header("content-type"), is("text/plain"));
        assertThat(f.bodyAsString(), is("hi"));
    }

    @Test
    void splitsHeaderOnFirstColonOnly() {
        StompFrame f = singleFrame(decodeWhole("SEND\ndestination:/q\nurl:http://x:8080/a\n\n\0"));
        assertThat(f.header("url"), is("http://x:8080/a"));
    }

    @Test
    void emptyHeaderValueIsAllowed() {
        StompFrame f = singleFrame(decodeWhole("SEND\ndestination:\n\n\0"));
        assertThat(f.header("destination"), is(""));
    }

    @Test
    void unescapesHeaderNamesAndValues() {
        StompFrame f = singleFrame(decodeWhole("MESSAGE\na\\cb:x\\ny\\rz\\\\w\\c\n\n\0"));
        assertThat(f.header("a:b"), is("x\ny\rz\\w:"));
    }

    @Test
    void connectFramesAreNotUnescaped() {
        for (String command : List.of("CONNECT", "CONNECTED", "STOMP")) {
            StompFrame f = singleFrame(decodeWhole(command + "\nlogin:a\\cb\\n\\x\npasscode:p:q\n\n\0"));
            assertThat(command, f.header("login"), is("a\\cb\\n\\x"));
            assertThat(command, f.header("passcode"), is("p:q"));
        }
    }

    @Test
    void repeatedHeadersAreKeptAndFirstWins() {
        StompFrame f = singleFrame(decodeWhole("MESSAGE\nfoo:World\nfoo:Hello\n\n\0"));
        assertThat(f.header("foo"), is("World"));
        assertThat(f.headers().size(), is(2));
        assertThat(f.headers().entries().get(1).getValue(), is("Hello"));
    }

    @Test
    void firstContentLengthWins() {
        StompFrame f = singleFrame(decodeWhole("SEND\ncontent-length:2\ncontent-length:bogus\n\nab\0"));
        assertThat(f.bodyAsString(), is("ab"));
    }

    @Test
    void multiByteUtf8InHeaders() {
        StompFrame f = singleFrame(decodeWhole("SEND\nnäme:wert€😀\n\n\0"));
        assertThat(f.header("näme"), is("wert€😀"));
    }

    @Test
    void contentLengthBodyMayContainNul() {
        byte[] body = {1, 0, 2, 0, 0, (byte) 0xFF};
        byte[] frame = concat(utf8("SEND\ndestination:/q\ncontent-length:6\n\n"), body, new byte[] {0});
        StompFrame f = singleFrame(decodeWhole(frame));
        assertThat(f.body(), is(body));
    }

    @Test
    void contentLengthCountsBytesNotChars() {
        StompFrame f = singleFrame(decodeWhole("SEND\ncontent-length:4\n\n€a\0"));
        assertThat(f.bodyAsString(), is("€a"));
    }

    @Test
    void zeroContentLength() {
        StompFrame f = singleFrame(decodeWhole("SEND\ncontent-length:0\n\n\0"));
        assertThat(f.body().length, is(0));
    }

    @Test
    void bodyWithoutContentLengthEndsAtFirstNul() {
        List<Decoded> d = decodeWhole("SEND\ndestination:/q\n\nhello world\0");
        assertThat(singleFrame(d).bodyAsString(), is("hello world"));
    }

    @Test
    void bodyKeepsBinaryBytes() {
        byte[] body = {(byte) 0xC3, (byte) 0x28, (byte) 0xFF, 10, 13};
        StompFrame f = singleFrame(decodeWhole(concat(utf8("MESSAGE\n\n"), body, new byte[] {0})));
        assertThat(f.body(), is(body));
    }

    @Test
    void severalFramesAndHeartBeatsInOneChunk() {
        String text = "\n\r\n" + SUBSCRIBE + "\n" + "ACK\nid:7\n\n\0" + "\r\n\n" + "SEND\ncontent-length:1\n\nx\0";
        List<Decoded> d = decodeWhole(text);
        List<String> kinds = d.stream().map(StompDecoderTest::kind).toList();
        assertThat(kinds, contains("hb", "hb", "SUBSCRIBE", "hb", "ACK", "hb", "hb", "SEND"));
        assertThat(((Frame) d.get(4)).frame().header("id"), is("7"));
    }

    @Test
    void loneHeartBeat() {
        StompDecoder dec = decoder();
        assertThat(dec.feed(utf8("\n")), contains(instanceOf(HeartBeat.class)));
        assertThat(dec.feed(utf8("\r")), empty());
        assertThat(dec.feed(utf8("\n")), contains(instanceOf(HeartBeat.class)));
        assertThat(dec.failed(), is(false));
    }

    @Test
    void frameSplitIntoTwoChunksAtEveryPosition() {
        byte[] frame = utf8("MESSAGE\r\nsubscription:0\r\nmessage-id:€1\r\ncontent-length:5\r\n\r\nh\0€\0\r\n");
        List<Decoded> expected = decodeWhole(frame);
        assertThat(expected.size(), is(2));
        for (int cut = 0; cut <= frame.length; cut++) {
            assertThat("cut at " + cut, decodeChunked(decoder(), frame, cut), is(expected));
        }
    }

    @Test
    void frameFedByteByByte() {
        byte[] stream = utf8(SUBSCRIBE + "\n" + "SEND\ndestination:/a\\cb\n\nbody €\0");
        StompDecoder dec = decoder();
        List<Decoded> all = new ArrayList<>();
        for (int i = 0; i < stream.length; i++) {
            all.addAll(dec.feed(stream, i, 1));
        }
        assertThat(all, is(decodeWhole(stream)));
        assertThat(((Frame) all.get(2)).frame().header("destination"), is("/a:b"));
    }

    @Test
    void unknownCommand() {
        assertThat(failureReason(decodeWhole("HELLO\n\n\0")), is("unknown command"));
        assertThat(failureReason(decodeWhole("send\n\n\0")), is("unknown command"));
        assertThat(failureReason(decodeWhole("SEND \n\n\0")), is("unknown command"));
    }

    @Test
    void headerWithoutColon() {
        assertThat(failureReason(decodeWhole("SEND\ndestination\n\n\0")), is("malformed header"));
    }

    @Test
    void headerWithEmptyName() {
        assertThat(failureReason(decodeWhole("SEND\n:value\n\n\0")), is("malformed header"));
    }

    @Test
    void undefinedEscape() {
        for (String header : List.of("a:b\\t", "a:b\\", "a\\x:b", "a:\\C")) {
            assertThat(header, failureReason(decodeWhole("SEND\n" + header + "\n\n\0")),
                       is("invalid header escape"));
        }
    }

    @Test
    void invalidContentLength() {
        for (String value : List.of("", "-1", "+1", " 1", "1 ", "1.0", "0x10", "abc", "2147483648", "99999999999")) {
            assertThat(value, failureReason(decodeWhole("SEND\ncontent-length:" + value + "\n\n\0")),
                       is("invalid content-length"));
        }
    }

    @Test
    void missingNulAfterContentLengthBody() {
        assertThat(failureReason(decodeWhole("SEND\ncontent-length:2\n\nabc\0")), is("missing NUL after body"));
    }

    @Test
    void invalidUtf8InHeader() {
        byte[] frame = concat(utf8("SEND\ndest:"), new byte[] {(byte) 0xC3, (byte) 0x28}, utf8("\n\n\0"));
        assertThat(failureReason(decodeWhole(frame)), is("invalid UTF-8"));
    }

    @Test
    void overlongAndSurrogateUtf8Rejected() {
        byte[] overlong = concat(utf8("SEND\na:"), new byte[] {(byte) 0xC0, (byte) 0xAF}, utf8("\n\n\0"));
        byte[] surrogate = concat(utf8("SEND\na:"), new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                                  utf8("\n\n\0"));
        assertThat(failureReason(decodeWhole(overlong)), is("invalid UTF-8"));
        assertThat(failureReason(decodeWhole(surrogate)), is("invalid UTF-8"));
    }

    @Test
    void invalidUtf8InCommand() {
        byte[] frame = concat(new byte[] {(byte) 0xFF}, utf8("SEND\n\n\0"));
        assertThat(failureReason(decodeWhole(frame)), is("invalid UTF-8"));
    }

    @Test
    void nulInsideHeadersIsMalformed() {
        assertThat(failureReason(decodeWhole("SEND\ndest:/a\0")), is("malformed frame"));
    }

    @Test
    void framesBeforeFailureAreStillDelivered() {
        List<Decoded> d = decodeWhole(SUBSCRIBE + "BOGUS\n\n\0" + SUBSCRIBE);
        assertThat(d.size(), is(2));
        assertThat(d.get(0), instanceOf(Frame.class));
        assertThat(d.get(1), is(new Failure("unknown command")));
    }

    @Test
    void decoderIsDeadAfterFailure() {
        StompDecoder dec = decoder();
        assertThat(failureReason(dec.feed(utf8("NOPE\n"))), is("unknown command"));
        assertThat(dec.failed(), is(true));
        assertThat(dec.feed(utf8(SUBSCRIBE)), empty());
        assertThat(dec.feed(utf8("\n")), empty());
        assertThat(dec.failed(), is(true));
    }

    // ---- limits ----

    @Test
    void frameAtExactlyTheLimitIsAccepted() {
        String head = "SEND\n\n";
        int limit = 100;
        String frame = head + "x".repeat(limit - head.length()) + "\0";
        StompDecoder dec = new StompDecoder(new StompLimits(limit, 32, 4096));
        assertThat(singleFrame(dec.feed(utf8(frame))).body().length, is(limit - head.length()));
        String tooBig = head + "x".repeat(limit - head.length() + 1) + "\0";
        dec = new StompDecoder(new StompLimits(limit, 32, 4096));
        assertThat(failureReason(dec.feed(utf8(tooBig))), is("frame too large"));
    }

    @Test
    void tenMebibyteBodyFailsEarlyAndStaysBounded() {
        StompDecoder dec = decoder();
        assertThat(dec.feed(utf8("SEND\ndestination:/q\n\n")), empty());
        byte[] chunk = new byte[16 * 1024];
        java.util.Arrays.fill(chunk, (byte) 'a');
        int total = 10 * 1024 * 1024;
        int fedChunks = 0;
        List<Decoded> result = List.of();
        for (int sent = 0; sent < total && !dec.failed(); sent += chunk.length) {
            result = dec.feed(chunk);
            fedChunks++;
            assertThat(dec.bufferedBytes(), lessThanOrEqualTo(StompLimits.DEFAULTS.maxFrameBytes() + 1024));
        }
        assertThat(failureReason(result), is("frame too large"));
        // headers plus four 16 KiB chunks already exceed 64 KiB: failure comes with the fourth chunk
        assertThat(fedChunks, is(4));
        assertThat(dec.bufferedBytes(), lessThan(1024));
    }

    @Test
    void tenMebibyteSingleChunkFailsWithoutBuffering() {
        byte[] huge = new byte[10 * 1024 * 1024];
        java.util.Arrays.fill(huge, (byte) 'a');
        byte[] head = utf8("SEND\n\n");
        System.arraycopy(head, 0, huge, 0, head.length);
        StompDecoder dec = decoder();
        assertThat(failureReason(dec.feed(huge)), is("frame too large"));
    }

    @Test
    void contentLengthOverLimitFailsImmediately() {
        StompDecoder dec = decoder();
        List<Decoded> d = dec.feed(utf8("SEND\ncontent-length:65537\n"));
        assertThat(failureReason(d), is("frame too large"));
        assertThat(dec.bufferedBytes(), lessThan(1024));
    }

    @Test
    void contentLengthPlusHeadersOverLimitFailsBeforeBody() {
        StompDecoder dec = new StompDecoder(new StompLimits(100, 32, 4096));
        // 22 header bytes + 80 body bytes > 100, reported at the blank line before any body arrives
        assertThat(failureReason(dec.feed(utf8("SEND\ncontent-length:80\n\n"))), is("frame too large"));
    }

    @Test
    void headerSectionOverFrameLimit() {
        StompDecoder dec = new StompDecoder(new StompLimits(100, 32, 4096));
        StringBuilder sb = new StringBuilder("SEND\n");
        for (int i = 0; i < 20; i++) {
            sb.append("h").append(i).append(":value\n");
        }
        assertThat(failureReason(dec.feed(utf8(sb.toString()))), is("frame too large"));
    }

    @Test
    void tooManyHeaders() {
        StompDecoder dec = new StompDecoder(new StompLimits(65536, 3, 4096));
        assertThat(singleFrame(dec.feed(utf8("SEND\na:1\nb:2\nc:3\n\n\0"))).headers().size(), is(3));
        dec = new StompDecoder(new StompLimits(65536, 3, 4096));
        assertThat(failureReason(dec.feed(utf8("SEND\na:1\nb:2\nc:3\nd:4\n\n\0"))), is("too many headers"));
    }

    @Test
    void headerLineAtLimitAcceptedEvenWithCrLf() {
        String line = "a:" + "v".repeat(8);  // 10 bytes
        StompDecoder dec = new StompDecoder(new StompLimits(65536, 32, 10));
        assertThat(singleFrame(dec.feed(utf8("SEND\r\n" + line + "\r\n\r\n\0"))).header("a"), is("v".repeat(8)));
    }

    @Test
    void headerLineTooLong() {
        StompDecoder dec = new StompDecoder(new StompLimits(65536, 32, 10));
        assertThat(failureReason(dec.feed(utf8("SEND\na:" + "v".repeat(9) + "\n\n\0"))), is("header line too long"));
    }

    @Test
    void headerLineTooLongDetectedBeforeEol() {
        StompDecoder dec = decoder();
        List<Decoded> d = dec.feed(utf8("SEND\nx:" + "v".repeat(5000)));
        assertThat(failureReason(d), is("header line too long"));
    }

    @Test
    void commandLineTooLong() {
        StompDecoder dec = decoder();
        assertThat(failureReason(dec.feed(utf8("S".repeat(5000)))), is("header line too long"));
    }

    @Test
    void hugeHeaderLineInSmallPiecesStaysBounded() {
        StompDecoder dec = decoder();
        dec.feed(utf8("SEND\nx:"));
        byte[] piece = utf8("y".repeat(100));
        int chunks = 0;
        while (!dec.failed()) {
            dec.feed(piece);
            chunks++;
            assertThat(dec.bufferedBytes(), lessThanOrEqualTo(StompLimits.DEFAULTS.maxHeaderLineBytes() + 1));
        }
        assertThat(chunks, is(41));
    }

    @Test
    void heartBeatsDoNotAccumulateTowardsFrameLimit() {
        StompDecoder dec = new StompDecoder(new StompLimits(16, 32, 16));
        byte[] beats = utf8("\r\n".repeat(1000));
        assertThat(dec.feed(beats).size(), is(1000));
        assertThat(singleFrame(dec.feed(utf8("ACK\nid:1\n\n\0"))).header("id"), is("1"));
    }

    @Test
    void nothingBufferedAfterFrame() {
        StompDecoder dec = decoder();
        dec.feed(utf8("SEND\ncontent-length:10000\n\n" + "z".repeat(10000) + "\0"));
        assertThat(dec.bufferedBytes(), lessThanOrEqualTo(128));
    }

    @Test
    void headerValueMayBeNullForAbsentHeader() {
        assertThat(singleFrame(decodeWhole(SUBSCRIBE)).header("receipt"), nullValue());
    }

    private static String kind(Decoded d) {
        return switch (d) {
            case HeartBeat hb -> "hb";
            case Frame f -> f.frame().command().name();
            case Failure f -> "fail:" + f.reason();
        };
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
