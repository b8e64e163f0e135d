package io.vaultbroker.stomp;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.vaultbroker.stomp.StompDecoder.Decoded;
import io.vaultbroker.stomp.StompDecoder.Failure;
import io.vaultbroker.stomp.StompDecoder.Frame;

/** Shared helpers for the codec tests. */
final class StompTestSupport {

    private StompTestSupport() {
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static StompDecoder decoder() {
        return new StompDecoder(StompLimits.DEFAULTS);
    }

    static List<Decoded> decodeWhole(byte[] bytes) {
        return decoder().feed(bytes);
    }

    static List<Decoded> decodeWhole(String text) {
        return decodeWhole(utf8(text));
    }

    /** Feeds {@code bytes} in pieces cut at the given ascending positions. */
    static List<Decoded> decodeChunked(StompDecoder decoder, byte[] bytes, int... cuts) {
        List<Decoded> all = new ArrayList<>();
        int from = 0;
        for (int cut : cuts) {
            all.addAll(decoder.feed(bytes, from, cut - from));
            from = cut;
        }
        all.addAll(decoder.feed(bytes, from, bytes.length - from));
        return all;
    }

    static StompFrame singleFrame(List<Decoded> decoded) {
        if (decoded.size() != 1 || !(decoded.get(0) instanceof Frame f)) {
            throw new AssertionError("expected exactly one frame but got " + decoded);
        }
        return f.frame();
    }

    static String failureReason(List<Decoded> decoded) {
        if (decoded.isEmpty() || !(decoded.get(decoded.size() - 1) instanceof Failure f)) {
            throw new AssertionError("expected a failure last but got " + decoded);
        }
        return f.reason();
    }
}
