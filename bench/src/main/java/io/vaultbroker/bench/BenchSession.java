package io.vaultbroker.bench;

import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompDecoder;
import io.vaultbroker.stomp.StompEncoder;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;
import io.vaultbroker.stomp.StompLimits;

/**
 * One benchmark client session: CONNECT with a JWT, two SUBSCRIBEs (the second with a receipt),
 * then counts MESSAGE frames per subscription and checks that row ids rise.
 *
 * <p>Threading: the JDK WebSocket calls the listener methods one at a time per socket (each
 * {@code request(1)} follows the previous callback), so the decoder and partial text are confined;
 * counters read by the main thread are volatile or read after the run. Sends are chained on the
 * callback threads until the session is ready, and after that only by {@link #keepAlive()} (one
 * thread).
 */
final class BenchSession implements WebSocket.Listener {
    private static final StompLimits LIMITS = new StompLimits(1 << 20, 64, 8192);

    final int index;
    final String subject;
    final String[] destinations;
    /** Index into the ledger's per-user counts, or -1 for an admin session. */
    final int user;
    private final String connectFrame;
    private final Ledger ledger;
    private final StompDecoder decoder = new StompDecoder(LIMITS);
    private StringBuilder partial;
    final CompletableFuture<Long> ready = new CompletableFuture<>();
    volatile WebSocket ws;
    // The JDK WebSocket refuses a send while the previous one is pending: chain them.
    private volatile CompletableFuture<WebSocket> sends;
    volatile String error;
    volatile boolean closed;
    final long[] received = new long[2];
    final long[] lastId = new long[2];
    volatile long outOfOrder;
    volatile long snapshots;
    volatile long notices;
    /** MESSAGE frames marked {@code x-late:true} (a row committed after rows with higher ids). */
    volatile long late;

    BenchSession(int index, String subject, int user, String token, String heartbeat, String[] destinations,
                 Ledger ledger) {
        this.index = index;
        this.subject = subject;
        this.user = user;
        this.destinations = destinations;
        this.ledger = ledger;
        this.connectFrame = StompEncoder.encode(StompFrame.of(StompCommand.CONNECT, StompHeaders.of(
                "accept-version", "1.2", "host", "localhost", "heart-beat", heartbeat, "passcode", token)));
    }

    long receivedTotal() {
        return received[0] + received[1];
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        ws = webSocket;
        sends = webSocket.sendText(connectFrame, true);
        webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        long now = System.nanoTime();
        if (!last) {
            if (partial == null) {
                partial = new StringBuilder(data.length() * 2);
            }
            partial.append(data);
            webSocket.request(1);
            return null;
        }
        String text;
        if (partial != null) {
            text = partial.append(data).toString();
            partial = null;
        } else {
            text = data.toString();
        }
        for (StompDecoder.Decoded d : decoder.feed(text.getBytes(StandardCharsets.UTF_8))) {
            switch (d) {
                case StompDecoder.Frame f -> frame(webSocket, f.frame(), now);
                case StompDecoder.Failure f -> fail("undecodable frame: " + f.reason());
                case StompDecoder.HeartBeat hb -> {
                }
            }
        }
        webSocket.request(1);
        return null;
    }

    private void frame(WebSocket webSocket, StompFrame f, long now) {
        switch (f.command()) {
            case MESSAGE -> message(f, now);
            case CONNECTED -> subscribe(webSocket);
            case RECEIPT -> ready.complete(now);
            case ERROR -> fail("ERROR " + f.header("message"));
            default -> fail("unexpected " + f.command());
        }
    }

    private void message(StompFrame f, long now) {
        String mid = f.header("message-id");
        if (mid == null || mid.isEmpty() || !Character.isDigit(mid.charAt(0))) {
            notices++;
            return;
        }
        if ("true".equals(f.header("x-snapshot"))) {
            snapshots++;
            return;
        }
        long id = Long.parseLong(mid);
        int sub = "1".equals(f.header("subscription")) ? 1 : 0;
        if ("true".equals(f.header("x-late"))) {
            // A late row is below ids already delivered, by design; the ledger still counts it.
            late++;
        } else {
            if (id <= lastId[sub]) {
                outOfOrder++;
            }
            lastId[sub] = id;
        }
        received[sub]++;
        ledger.received(id, now);
    }

    private void subscribe(WebSocket webSocket) {
        String first = StompEncoder.encode(StompFrame.of(StompCommand.SUBSCRIBE, StompHeaders.of(
                "id", "0", "destination", destinations[0])));
        String second = StompEncoder.encode(StompFrame.of(StompCommand.SUBSCRIBE, StompHeaders.of(
                "id", "1", "destination", destinations[1], "receipt", "r")));
        sends = sends.thenCompose(w -> w.sendText(first, true)).thenCompose(w -> w.sendText(second, true));
        sends.exceptionally(t -> {
            fail("send failed: " + t);
            return null;
        });
    }

    /**
     * Sends one STOMP heart-beat (a bare EOL), so a broker that closes connections silent for
     * long does not close this one; only once the session is ready (its sends are chained by then).
     */
    void keepAlive() {
        if (ws != null && !closed && ready.isDone() && !ready.isCompletedExceptionally()) {
            sends = sends.thenCompose(w -> w.sendText("\n", true));
        }
    }

    private void fail(String why) {
        if (error == null) {
            error = why;
        }
        ready.completeExceptionally(new IllegalStateException(why));
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed = true;
        fail("closed " + statusCode + " " + reason);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable t) {
        closed = true;
        fail("error " + t);
    }
}
