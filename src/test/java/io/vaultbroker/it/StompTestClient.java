package io.vaultbroker.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompDecoder;
import io.vaultbroker.stomp.StompEncoder;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;
import io.vaultbroker.stomp.StompLimits;

/**
 * A real STOMP client over the JDK's WebSocket, for tests. Frames are collected as they arrive,
 * each with its receive time; waits take a deadline.
 */
final class StompTestClient implements AutoCloseable {
    /** A received frame and when it arrived. */
    record Received(StompFrame frame, long nanos) {
        String header(String name) {
            return frame.header(name);
        }

        StompCommand command() {
            return frame.command();
        }

        String body() {
            return frame.bodyAsString();
        }
    }

    private final LinkedBlockingQueue<Received> frames = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StompDecoder decoder = new StompDecoder(new StompLimits(16 * 1024 * 1024, 64, 64 * 1024));
    private final WebSocket ws;
    private volatile boolean reading = true;

    private StompTestClient(HttpClient http, URI uri, String... subprotocols) throws Exception {
        WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        if (subprotocols.length > 0) {
            b.subprotocols(subprotocols[0], java.util.Arrays.copyOfRange(subprotocols, 1, subprotocols.length));
        }
        ws = b.buildAsync(uri, new Listener()).get(10, TimeUnit.SECONDS);
    }

    static StompTestClient open(int port) throws Exception {
        return open(URI.create("ws://127.0.0.1:" + port + "/stomp"), "v12.stomp");
    }

    static StompTestClient open(URI uri, String... subprotocols) throws Exception {
        return open(HttpClient.newHttpClient(), uri, subprotocols);
    }

    /** Opens with the given client, e.g. one whose SSLContext trusts a test certificate (wss://). */
    static StompTestClient open(HttpClient http, URI uri, String... subprotocols) throws Exception {
        return new StompTestClient(http, uri, subprotocols);
    }

    /** Opens, sends CONNECT with the token as passcode and waits for CONNECTED. */
    static StompTestClient connect(int port, String token) throws Exception {
        StompTestClient c = open(port);
        c.send(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2", "host", "localhost",
                "passcode", token, "heart-beat", "0,0")));
        Received r = c.next(Duration.ofSeconds(10));
        if (r.command() != StompCommand.CONNECTED) {
            throw new AssertionError("expected CONNECTED, got " + r.command() + " " + r.header("message"));
        }
        return c;
    }

    WebSocket socket() {
        return ws;
    }

    String subprotocol() {
        return ws.getSubprotocol();
    }

    void send(StompFrame f) {
        sendRaw(StompEncoder.encode(f));
    }

    void sendRaw(String text) {
        ws.sendText(text, true).join();
    }

    /** Subscribes and waits for the receipt. */
    void subscribe(String id, String destination, String... extraHeaders) throws InterruptedException {
        StompHeaders.Builder h = StompHeaders.builder().add("id", id).add("destination", destination)
                .add("receipt", "r-" + id);
        for (int i = 0; i + 1 < extraHeaders.length; i += 2) {
            h.add(extraHeaders[i], extraHeaders[i + 1]);
        }
        send(StompFrame.of(StompCommand.SUBSCRIBE, h.build()));
        Received r = next(Duration.ofSeconds(10));
        if (r.command() != StompCommand.RECEIPT || !("r-" + id).equals(r.header("receipt-id"))) {
            throw new AssertionError("expected RECEIPT r-" + id + ", got " + r.command() + " " + r.header("message"));
        }
    }

    /** The next frame, or an AssertionError when none arrives in time. */
    Received next(Duration timeout) throws InterruptedException {
        Received r = frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (r == null) {
            throw new AssertionError("no frame within " + timeout);
        }
        return r;
    }

    /** The next frame, or null. */
    Received poll(Duration timeout) throws InterruptedException {
        return frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Collects frames until the predicate holds for the collection or the deadline passes. */
    List<Received> collectUntil(Predicate<List<Received>> done, Duration timeout) throws InterruptedException {
        List<Received> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.test(out)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            Received r = frames.poll(left, TimeUnit.NANOSECONDS);
            if (r != null) {
                out.add(r);
            }
        }
        return out;
    }

    /** True when the server closed the socket within the timeout. */
    boolean awaitClosed(Duration timeout) {
        try {
            closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    int closeCode() {
        return closed.getNow(-1);
    }

    /** Stops asking for more data, as a client that does not read would. */
    void stopReading() {
        reading = false;
    }

    /** Reads again, so a close the server sent while we did not read is seen. */
    void resumeReading() {
        reading = true;
        ws.request(1);
    }

    @Override
    public void close() {
        ws.abort();
    }

    private final class Listener implements WebSocket.Listener {
        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            accept(data.toString().getBytes(StandardCharsets.UTF_8));
            if (reading) {
                webSocket.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            accept(b);
            if (reading) {
                webSocket.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(1006);
        }

        private void accept(byte[] bytes) {
            long now = System.nanoTime();
            for (StompDecoder.Decoded d : decoder.feed(bytes)) {
                if (d instanceof StompDecoder.Frame f) {
                    frames.add(new Received(f.frame(), now));
                }
            }
        }
    }
}
