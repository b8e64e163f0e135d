package io.vaultbroker.stomp;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Collectors;

import io.vaultbroker.stomp.StompDecoder.Decoded;
import io.vaultbroker.stomp.StompDecoder.Failure;
import io.vaultbroker.stomp.StompDecoder.Frame;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

class StompCodecProperties {

    // Small limits make random input hit every limit often; defaults cover the production configuration.
    private static final List<StompLimits> LIMITS = List.of(StompLimits.DEFAULTS, new StompLimits(200, 3, 40),
                                                            new StompLimits(1, 0, 1));
    // Slack over maxFrameBytes: the retained command/header line buffer while a body is read.
    private static final int BUFFER_SLACK = 128;

    @Property(tries = 500)
    void encodeThenDecodeRoundTrips(@ForAll("frames") StompFrame frame) {
        StompFrame viaBytes = onlyFrame(new StompDecoder(StompLimits.DEFAULTS).feed(StompEncoder.encodeBytes(frame)));
        assertThat(viaBytes, is(frame.body().length == 0 ? frame : withLength(frame)));
    }

    @Property(tries = 300)
    void encodeTextThenDecodeRoundTrips(@ForAll("frames") StompFrame frame) {
        StompFrame utf8 = new StompFrame(frame.command(), frame.headers(),
                                         frame.bodyAsString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        byte[] wire = StompEncoder.encode(utf8).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        StompFrame back = onlyFrame(new StompDecoder(StompLimits.DEFAULTS).feed(wire));
        assertThat(back, is(utf8.body().length == 0 ? utf8 : withLength(utf8)));
    }

    @Property(tries = 1000)
    void randomBytesNeverThrowAndStayBounded(@ForAll("noise") byte[] input, @ForAll("cutSeeds") List<Integer> seeds) {
        for (StompLimits limits : LIMITS) {
            checkRobust(limits, input, seeds);
        }
    }

    @Property(tries = 1000)
    void mutatedFramesNeverThrowAndStayBounded(@ForAll("mutatedStreams") byte[] input,
                                               @ForAll("cutSeeds") List<Integer> seeds) {
        for (StompLimits limits : LIMITS) {
            checkRobust(limits, input, seeds);
        }
    }

    @Property(tries = 500)
    void chunkingDoesNotChangeValidStreams(@ForAll("validStreams") byte[] stream,
                                           @ForAll("cutSeeds") List<Integer> seeds) {
        List<Decoded> whole = new StompDecoder(StompLimits.DEFAULTS).feed(stream);
        assertThat(whole.stream().anyMatch(d -> d instanceof Failure), is(false));
        assertThat(feedChunked(new StompDecoder(StompLimits.DEFAULTS), stream, cuts(seeds, stream.length)),
                   is(whole));
    }

    // ---- checks ----

    private static void checkRobust(StompLimits limits, byte[] input, List<Integer> seeds) {
        List<Decoded> whole = new StompDecoder(limits).feed(input);
        StompDecoder dec = new StompDecoder(limits);
        List<Decoded> chunked = new ArrayList<>();
        int from = 0;
        for (int cut : cuts(seeds, input.length)) {
            chunked.addAll(dec.feed(input, from, cut - from));
            from = cut;
            assertThat(dec.bufferedBytes(), lessThanOrEqualTo(limits.maxFrameBytes() + BUFFER_SLACK));
        }
        chunked.addAll(dec.feed(input, from, input.length - from));
        assertThat(dec.bufferedBytes(), lessThanOrEqualTo(limits.maxFrameBytes() + BUFFER_SLACK));
        // garbage or not, where the input is cut must not change what it decodes to
        assertThat(chunked, is(whole));
        long failures = chunked.stream().filter(d -> d instanceof Failure).count();
        assertThat(failures <= 1, is(true));
        if (failures == 1) {
            assertThat(chunked.get(chunked.size() - 1) instanceof Failure, is(true));
            assertThat(dec.failed(), is(true));
            assertThat(dec.feed(input).isEmpty(), is(true));
        } else {
            assertThat(dec.failed(), is(false));
        }
    }

    private static List<Decoded> feedChunked(StompDecoder dec, byte[] bytes, int[] cuts) {
        List<Decoded> all = new ArrayList<>();
        int from = 0;
        for (int cut : cuts) {
            all.addAll(dec.feed(bytes, from, cut - from));
            from = cut;
        }
        all.addAll(dec.feed(bytes, from, bytes.length - from));
        return all;
    }

    /** Ascending cut positions within [0, length], derived from arbitrary seeds. */
    private static int[] cuts(List<Integer> seeds, int length) {
        return seeds.stream().mapToInt(s -> Math.floorMod(s, length + 1)).sorted().toArray();
    }

    private static StompFrame onlyFrame(List<Decoded> decoded) {
        assertThat(decoded.toString(), decoded.size(), is(1));
        return ((Frame) decoded.get(0)).frame();
    }

    // The encoder adds content-length for non-empty bodies; expect it on the way back.
    private static StompFrame withLength(StompFrame f) {
        if (f.headers().get("content-length") != null) {
            return f;
        }
        StompHeaders.Builder b = StompHeaders.builder();
        f.headers().entries().forEach(e -> b.add(e.getKey(), e.getValue()));
        b.add("content-length", Integer.toString(f.body().length));
        return new StompFrame(f.command(), b.build(), f.body());
    }

    // ---- generators ----

    private static final List<StompCommand> ESCAPED = EnumSet.allOf(StompCommand.class).stream()
            .filter(StompCommand::escapesHeaders)
            .toList();

    private static Arbitrary<String> text(int minLen, int maxLen) {
        // whole code points, so surrogate pairs never split into invalid halves
        return Arbitraries.of("a", "Z", "0", "-", " ", ":", "\n", "\r", "\\", "\\c", "é", "€", "😀", "\t", "=")
                .list().ofMinSize(minLen).ofMaxSize(maxLen)
                .map(l -> String.join("", l));
    }

    private static Arbitrary<StompHeaders> headers() {
        return Combinators.combine(text(1, 10), text(0, 16)).as(List::of)
                .list().ofMaxSize(8)
                .map(pairs -> {
                    StompHeaders.Builder b = StompHeaders.builder();
                    pairs.forEach(p -> b.add(p.get(0), p.get(1)));
                    return b.build();
                });
    }

    private static Arbitrary<byte[]> bodies() {
        return Arbitraries.oneOf(
                Arbitraries.just(new byte[0]),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(300),
                text(0, 40).map(s -> s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Provide
    Arbitrary<StompFrame> frames() {
        return Combinators.combine(Arbitraries.of(ESCAPED), headers(), bodies()).as(StompFrame::new);
    }

    @Provide
    Arbitrary<byte[]> validStreams() {
        Arbitrary<byte[]> frame = frames().map(StompEncoder::encodeBytes);
        Arbitrary<byte[]> beat = Arbitraries.of("\n", "\r\n").map(StompTestSupport::utf8);
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(3, frame),
                        net.jqwik.api.Tuple.of(1, beat))
                .list().ofMinSize(1).ofMaxSize(6)
                .map(StompCodecProperties::concat);
    }

    @Provide
    Arbitrary<byte[]> noise() {
        // weighted towards bytes that mean something to the decoder, so random input reaches deep states
        Arbitrary<Byte> meaningful = Arbitraries.of((byte) 0, (byte) '\n', (byte) '\r', (byte) ':', (byte) '\\',
                                                    (byte) 'c', (byte) 0xC3, (byte) 0xA9, (byte) 0xFF);
        Arbitrary<Byte> anyByte = Arbitraries.bytes();
        Arbitrary<byte[]> tokens = Arbitraries.of("SEND\n", "MESSAGE\n", "CONNECT\r\n", "content-length:", "3", "\n\n",
                                                  "\0", "a:b\n").map(StompTestSupport::utf8);
        Arbitrary<byte[]> single = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, anyByte), net.jqwik.api.Tuple.of(3, meaningful))
                .map(b -> new byte[] {b});
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, single), net.jqwik.api.Tuple.of(1, tokens))
                .list().ofMaxSize(120)
                .map(StompCodecProperties::concat);
    }

    @Provide
    Arbitrary<byte[]> mutatedStreams() {
        Arbitrary<List<int[]>> mutations = Combinators.combine(
                        Arbitraries.integers().between(0, 3),
                        Arbitraries.integers().between(0, Integer.MAX_VALUE),
                        Arbitraries.integers().between(0, 255))
                .as((kind, pos, value) -> new int[] {kind, pos, value})
                .list().ofMinSize(1).ofMaxSize(4);
        return Combinators.combine(validStreams(), mutations).as(StompCodecProperties::mutate);
    }

    @Provide
    Arbitrary<List<Integer>> cutSeeds() {
        return Arbitraries.integers().between(0, Integer.MAX_VALUE).list().ofMaxSize(12);
    }

    private static byte[] mutate(byte[] stream, List<int[]> mutations) {
        byte[] b = stream;
        for (int[] m : mutations) {
            int pos = Math.floorMod(m[1], b.length + 1);
            switch (m[0]) {
                case 0 -> { // flip one bit
                    if (pos < b.length) {
                        b = b.clone();
                        b[pos] ^= (byte) (1 << (m[2] & 7));
                    }
                }
                case 1 -> b = Arrays.copyOf(b, pos); // truncate
                case 2 -> { // insert a byte
                    byte[] n = new byte[b.length + 1];
                    System.arraycopy(b, 0, n, 0, pos);
                    n[pos] = (byte) m[2];
                    System.arraycopy(b, pos, n, pos + 1, b.length - pos);
                    b = n;
                }
                default -> { // delete a byte
                    if (pos < b.length) {
                        byte[] n = new byte[b.length - 1];
                        System.arraycopy(b, 0, n, 0, pos);
                        System.arraycopy(b, pos + 1, n, pos, b.length - pos - 1);
                        b = n;
                    }
                }
            }
        }
        return b;
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }

    @SuppressWarnings("unused")
    private static String describe(List<Decoded> d) {
        return d.stream().map(Object::toString).collect(Collectors.joining(", "));
    }
}
