package io.vaultbroker.stomp;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import io.vaultbroker.stomp.StompDecoder.Decoded;
import io.vaultbroker.stomp.StompDecoder.Failure;
import io.vaultbroker.stomp.StompDecoder.Frame;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

/**
 * Property tests of the codec with seeded generators in plain JUnit 5: each try has its own seed,
 * printed when it fails; {@code -Dstomp.seed=N} replays that one try.
 */
class StompCodecProperties {

    // Small limits make random input hit every limit often; defaults cover the production configuration.
    private static final List<StompLimits> LIMITS = List.of(StompLimits.DEFAULTS, new StompLimits(200, 3, 40),
                                                            new StompLimits(1, 0, 1));
    // Slack over maxFrameBytes: the retained command/header line buffer while a body is read.
    private static final int BUFFER_SLACK = 128;

    @Test
    void encodeThenDecodeRoundTrips() {
        forAll(500, rnd -> {
            StompFrame frame = frame(rnd);
            StompFrame viaBytes = onlyFrame(new StompDecoder(StompLimits.DEFAULTS).feed(StompEncoder.encodeBytes(frame)));
            assertThat(viaBytes, is(frame.body().length == 0 ? frame : withLength(frame)));
        });
    }

    @Test
    void encodeTextThenDecodeRoundTrips() {
        forAll(300, rnd -> {
            StompFrame frame = frame(rnd);
            StompFrame utf8 = new StompFrame(frame.command(), frame.headers(),
                                             frame.bodyAsString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            byte[] wire = StompEncoder.encode(utf8).getBytes(java.nio.charset.StandardCharsets.UTF_8);
            StompFrame back = onlyFrame(new StompDecoder(StompLimits.DEFAULTS).feed(wire));
            assertThat(back, is(utf8.body().length == 0 ? utf8 : withLength(utf8)));
        });
    }

    @Test
    void randomBytesNeverThrowAndStayBounded() {
        forAll(1000, rnd -> {
            byte[] input = noise(rnd);
            List<Integer> seeds = cutSeeds(rnd);
            for (StompLimits limits : LIMITS) {
                checkRobust(limits, input, seeds);
            }
        });
    }

    @Test
    void mutatedFramesNeverThrowAndStayBounded() {
        forAll(1000, rnd -> {
            byte[] input = mutatedStream(rnd);
            List<Integer> seeds = cutSeeds(rnd);
            for (StompLimits limits : LIMITS) {
                checkRobust(limits, input, seeds);
            }
        });
    }

    @Test
    void chunkingDoesNotChangeValidStreams() {
        forAll(500, rnd -> {
            byte[] stream = validStream(rnd);
            List<Integer> seeds = cutSeeds(rnd);
            List<Decoded> whole = new StompDecoder(StompLimits.DEFAULTS).feed(stream);
            assertThat(whole.stream().anyMatch(d -> d instanceof Failure), is(false));
            assertThat(feedChunked(new StompDecoder(StompLimits.DEFAULTS), stream, cuts(seeds, stream.length)),
                       is(whole));
        });
    }

    // Runs the property for `tries` seeds drawn from one base seed (or the one -Dstomp.seed names).
    private static void forAll(int tries, Consumer<Random> property) {
        String fixed = System.getProperty("stomp.seed");
        long base = fixed != null ? Long.parseLong(fixed) : new Random().nextLong();
        Random seeds = new Random(base);
        for (int i = 0; i < (fixed != null ? 1 : tries); i++) {
            long seed = fixed != null ? base : seeds.nextLong();
            try {
                property.accept(new Random(seed));
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("failed for seed " + seed + " (replay with -Dstomp.seed=" + seed + "): "
                        + e.getMessage(), e);
            }
        }
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
    // Whole code points, so surrogate pairs never split into invalid halves.
    private static final String[] PIECES = {"a", "Z", "0", "-", " ", ":", "\n", "\r", "\\", "\\c", "é", "€", "😀", "\t", "="};
    private static final byte[] MEANINGFUL = {0, '\n', '\r', ':', '\\', 'c', (byte) 0xC3, (byte) 0xA9, (byte) 0xFF};
    private static final String[] TOKENS = {"SEND\n", "MESSAGE\n", "CONNECT\r\n", "content-length:", "3", "\n\n", "\0", "a:b\n"};

    private static String text(Random rnd, int minLen, int maxLen) {
        StringBuilder sb = new StringBuilder();
        int n = minLen + rnd.nextInt(maxLen - minLen + 1);
        for (int i = 0; i < n; i++) {
            sb.append(PIECES[rnd.nextInt(PIECES.length)]);
        }
        return sb.toString();
    }

    private static StompHeaders headers(Random rnd) {
        StompHeaders.Builder b = StompHeaders.builder();
        int n = rnd.nextInt(9);
        for (int i = 0; i < n; i++) {
            b.add(text(rnd, 1, 10), text(rnd, 0, 16));
        }
        return b.build();
    }

    private static byte[] body(Random rnd) {
        return switch (rnd.nextInt(3)) {
            case 0 -> new byte[0];
            case 1 -> {
                byte[] b = new byte[rnd.nextInt(301)];
                rnd.nextBytes(b);
                yield b;
            }
            default -> text(rnd, 0, 40).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        };
    }

    private static StompFrame frame(Random rnd) {
        return new StompFrame(ESCAPED.get(rnd.nextInt(ESCAPED.size())), headers(rnd), body(rnd));
    }

    private static byte[] validStream(Random rnd) {
        List<byte[]> parts = new ArrayList<>();
        int n = 1 + rnd.nextInt(6);
        for (int i = 0; i < n; i++) {
            parts.add(rnd.nextInt(4) < 3 ? StompEncoder.encodeBytes(frame(rnd))
                    : StompTestSupport.utf8(rnd.nextBoolean() ? "\n" : "\r\n"));
        }
        return concat(parts);
    }

    // Weighted towards bytes that mean something to the decoder, so random input reaches deep states.
    private static byte[] noise(Random rnd) {
        List<byte[]> parts = new ArrayList<>();
        int n = rnd.nextInt(121);
        for (int i = 0; i < n; i++) {
            int pick = rnd.nextInt(5);
            if (pick == 4) {
                parts.add(StompTestSupport.utf8(TOKENS[rnd.nextInt(TOKENS.length)]));
            } else if (pick % 2 == 0) {
                parts.add(new byte[] {(byte) rnd.nextInt(256)});
            } else {
                parts.add(new byte[] {MEANINGFUL[rnd.nextInt(MEANINGFUL.length)]});
            }
        }
        return concat(parts);
    }

    private static byte[] mutatedStream(Random rnd) {
        List<int[]> mutations = new ArrayList<>();
        int n = 1 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            mutations.add(new int[] {rnd.nextInt(4), rnd.nextInt(Integer.MAX_VALUE), rnd.nextInt(256)});
        }
        return mutate(validStream(rnd), mutations);
    }

    private static List<Integer> cutSeeds(Random rnd) {
        List<Integer> out = new ArrayList<>();
        int n = rnd.nextInt(13);
        for (int i = 0; i < n; i++) {
            out.add(rnd.nextInt(Integer.MAX_VALUE));
        }
        return out;
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
}
