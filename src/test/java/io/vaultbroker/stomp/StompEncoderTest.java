package io.vaultbroker.stomp;

import java.util.Arrays;
import java.util.EnumSet;

import org.junit.jupiter.api.Test;

import static io.vaultbroker.stomp.StompTestSupport.decodeWhole;
import static io.vaultbroker.stomp.StompTestSupport.singleFrame;
import static io.vaultbroker.stomp.StompTestSupport.utf8;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StompEncoderTest {

    @Test
    void encodesMessageWithContentLength() {
        StompFrame f = StompFrame.of(StompCommand.MESSAGE,
                                     StompHeaders.of("subscription", "0", "destination", "/topic/a"),
                                     "héllo");
        assertThat(StompEncoder.encode(f),
                   is("MESSAGE\nsubscription:0\ndestination:/topic/a\ncontent-length:6\n\nhéllo\0"));
    }

    @Test
    void noContentLengthForEmptyBody() {
        StompFrame f = StompFrame.of(StompCommand.RECEIPT, StompHeaders.of("receipt-id", "77"));
        assertThat(StompEncoder.encode(f), is("RECEIPT\nreceipt-id:77\n\n\0"));
    }

    @Test
    void callerContentLengthIsKept() {
        StompFrame f = StompFrame.of(StompCommand.SEND, StompHeaders.of("content-length", "2"), "ab");
        assertThat(StompEncoder.encode(f), is("SEND\ncontent-length:2\n\nab\0"));
    }

    @Test
    void escapesNamesAndValues() {
        StompFrame f = StompFrame.of(StompCommand.MESSAGE, StompHeaders.of("a:b", "x\ny\rz\\w:v"));
        assertThat(StompEncoder.encode(f), is("MESSAGE\na\\cb:x\\ny\\rz\\\\w\\cv\n\n\0"));
    }

    @Test
    void escapeHelper() {
        assertThat(StompEncoder.escape("plain"), is("plain"));
        String plain = "no-escapes-needed";
        assertThat(StompEncoder.escape(plain), sameInstance(plain));
        assertThat(StompEncoder.escape("a:b\\c\nd\re"), is("a\\cb\\\\c\\nd\\re"));
    }

    @Test
    void connectAndConnectedAreWrittenRaw() {
        for (StompCommand c : EnumSet.of(StompCommand.CONNECT, StompCommand.CONNECTED, StompCommand.STOMP)) {
            StompFrame f = StompFrame.of(c, StompHeaders.of("passcode", "a:b\\c"));
            assertThat(StompEncoder.encode(f), is(c + "\npasscode:a:b\\c\n\n\0"));
        }
    }

    @Test
    void rawFramesRejectUnrepresentableHeaders() {
        assertThrows(IllegalArgumentException.class, () -> StompEncoder.encode(
                StompFrame.of(StompCommand.CONNECTED, StompHeaders.of("x", "a\nb"))));
        assertThrows(IllegalArgumentException.class, () -> StompEncoder.encode(
                StompFrame.of(StompCommand.CONNECT, StompHeaders.of("a:b", "x"))));
    }

    @Test
    void encodeBytesKeepsBinaryBody() {
        byte[] body = {0, (byte) 0xFF, (byte) 0xC3, 0, 10};
        StompFrame f = new StompFrame(StompCommand.SEND, StompHeaders.of("destination", "/q"), body);
        byte[] bytes = StompEncoder.encodeBytes(f);
        assertThat(bytes[bytes.length - 1], is((byte) 0));
        assertThat(Arrays.copyOfRange(bytes, bytes.length - 6, bytes.length - 1), is(body));
        assertThat(singleFrame(decodeWhole(bytes)).body(), is(body));
    }

    @Test
    void encodeTextRejectsNonUtf8Body() {
        StompFrame f = new StompFrame(StompCommand.SEND, StompHeaders.of(), new byte[] {(byte) 0xFF});
        assertThrows(IllegalArgumentException.class, () -> StompEncoder.encode(f));
    }

    @Test
    void textAndBytesFormsAgree() {
        StompFrame f = StompFrame.of(StompCommand.MESSAGE, StompHeaders.of("k€y", "v😀:x"), "ü");
        assertThat(StompEncoder.encodeBytes(f), is(utf8(StompEncoder.encode(f))));
    }

    @Test
    void heartBeatIsEol() {
        assertThat(StompEncoder.HEARTBEAT, is("\n"));
    }

    @Test
    void everyCommandRoundTripsWithBody() {
        byte[] binary = new byte[256];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) i;
        }
        for (StompCommand c : StompCommand.values()) {
            StompHeaders h = StompHeaders.of("näme", "wért€😀", "url", "http://h:1/x", "dup", "1", "dup", "2");
            StompFrame text = StompFrame.of(c, h, "body ✓ " + c);
            StompFrame bin = new StompFrame(c, h, binary);
            StompFrame textBack = singleFrame(decodeWhole(StompEncoder.encode(text)));
            assertThat(c.name(), textBack.bodyAsString(), is("body ✓ " + c));
            assertThat(c.name(), textBack.headers().entries().subList(0, 4), is(h.entries()));
            assertThat(c.name(), textBack.headers().size(), is(5));
            StompFrame back = singleFrame(decodeWhole(StompEncoder.encodeBytes(bin)));
            assertThat(c.name(), back.body(), is(binary));
            assertThat(c.name(), back.header("dup"), is("1"));
            assertThat(c.name(), back.header("url"), is("http://h:1/x"));
            assertThat(c.name(), back.header("content-length"), is("256"));
        }
    }

    @Test
    void escapedValuesRoundTrip() {
        StompHeaders h = StompHeaders.of("a:b", "c:d:e", "back\\slash", "line\nbreak\r\n", "k", ":");
        StompFrame f = StompFrame.of(StompCommand.SEND, h);
        assertThat(singleFrame(decodeWhole(StompEncoder.encode(f))), is(f));
    }
}
