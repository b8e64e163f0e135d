package io.vaultbroker.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The {@code hostile} scenario's attacks, each from its own loopback source addresses (the client
 * socket is bound to 127.0.0.2, .3, ... before it connects), on plain blocking sockets so nothing
 * of the JDK's WebSocket client gets in the way of a half-sent head or frame. Each attack opens its
 * connections on virtual threads until {@link #stop()} closes them all; {@link #figures()} says
 * how many the broker took, refused or closed.
 *
 * <p>Threading: an attack's counters are atomic; its sockets sit in a concurrent queue; start and
 * stop are called from the main thread.
 */
abstract class Attacks {
    private static final int CONNECT_TIMEOUT_MS = 3000;
    private static final int CONCURRENT_CONNECTS = 64;

    final String name;
    final List<InetAddress> from;
    final InetSocketAddress target;
    volatile boolean running = true;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final Semaphore connecting = new Semaphore(CONCURRENT_CONNECTS);
    final ConcurrentLinkedQueue<Socket> open = new ConcurrentLinkedQueue<>();
    final AtomicLong attempted = new AtomicLong();
    final AtomicLong connected = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong timedOut = new AtomicLong();
    final AtomicLong closedByBroker = new AtomicLong();
    final AtomicLong bytesSent = new AtomicLong();
    final AtomicReference<String> firstError = new AtomicReference<>();
    private long stillOpenAtEnd = -1;
    private long closedSeenAtEnd = -1;

    Attacks(String name, List<InetAddress> from, int port) {
        this.name = name;
        this.from = from;
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** Starts opening connections; returns at once. */
    final void start() {
        Thread.ofPlatform().name("attack-" + name).daemon(true).start(() -> {
            try {
                launch();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                firstError.compareAndSet(null, e.toString());
            }
        });
    }

    /** Opens every connection of the attack, each task on a virtual thread via {@link #spawn}. */
    abstract void launch() throws InterruptedException;

    /** One connection's work after it connected: send what the attack sends, then hold it. */
    abstract void work(Socket s, int i) throws IOException;

    void spawn(int i, int receiveBuffer) throws InterruptedException {
        connecting.acquire();
        attempted.incrementAndGet();
        threads.execute(() -> {
            Socket s = new Socket();
            boolean released = false;
            try {
                if (receiveBuffer > 0) {
                    s.setReceiveBufferSize(receiveBuffer);
                }
                s.bind(new InetSocketAddress(from.get(i % from.size()), 0));
                s.connect(target, CONNECT_TIMEOUT_MS);
                connected.incrementAndGet();
                open.add(s);
                connecting.release();
                released = true;
                if (running) {
                    work(s, i);
                }
            } catch (SocketTimeoutException e) {
                timedOut.incrementAndGet();
                note(e);
            } catch (ConnectException e) {
                refused.incrementAndGet();
                note(e);
            } catch (IOException e) {
                if (running && s.isConnected()) {
                    closedByBroker.incrementAndGet();
                } else if (running) {
                    refused.incrementAndGet();
                }
                note(e);
            } finally {
                if (!released) {
                    connecting.release();
                    closeQuietly(s);
                }
            }
        });
    }

    void note(Exception e) {
        if (running) {
            firstError.compareAndSet(null, e.toString());
        }
    }

    /** Holds a connection open until the attack stops, counting it if the broker closes it. */
    void hold(Socket s) throws IOException {
        s.setSoTimeout(2000);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[4096];
        while (running) {
            try {
                if (in.read(buf) < 0) {
                    closedByBroker.incrementAndGet();
                    return;
                }
            } catch (SocketTimeoutException e) {
                // still open
            }
        }
    }

    /** Stops opening, checks which connections the broker has closed meanwhile, closes the rest. */
    final void stop() throws InterruptedException {
        running = false;
        AtomicLong alive = new AtomicLong();
        AtomicLong closed = new AtomicLong();
        // One short read per socket, all at once (thousands of sockets, 1 ms each).
        try (ExecutorService check = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Socket s : open) {
                check.execute(() -> {
                    try {
                        s.setSoTimeout(1);
                        if (s.getInputStream().read() < 0) {
                            closed.incrementAndGet();
                        } else {
                            alive.incrementAndGet();
                        }
                    } catch (SocketTimeoutException e) {
                        alive.incrementAndGet();
                    } catch (IOException e) {
                        closed.incrementAndGet();
                    }
                });
            }
            check.shutdown();
            check.awaitTermination(10, TimeUnit.SECONDS);
        }
        stillOpenAtEnd = alive.get();
        closedSeenAtEnd = closed.get();
        for (Socket s : open) {
            closeQuietly(s);
        }
        threads.shutdownNow();
    }

    Map<String, Object> figures() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("attack", name);
        m.put("attempted", attempted.get());
        m.put("tcp_connected", connected.get());
        m.put("refused", refused.get());
        m.put("connect_timed_out", timedOut.get());
        m.put("closed_by_broker_during", closedByBroker.get());
        m.put("open_at_end", stillOpenAtEnd);
        m.put("closed_at_end", closedSeenAtEnd);
        m.put("bytes_sent", bytesSent.get());
        m.put("first_error", firstError.get());
        return m;
    }

    static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // gone already
        }
    }

    /** Sends a WebSocket upgrade for /stomp and reads the response head; the status line, or why not. */
    static String upgrade(Socket s, int port) throws IOException {
        byte[] key = new byte[16];
        new Random().nextBytes(key);
        String req = "GET /stomp HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: " + Base64.getEncoder().encodeToString(key)
                + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n";
        s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                break;
            }
            if (head.length() > 16_384) {
                break;
            }
        }
        int eol = head.indexOf("\r\n");
        return eol < 0 ? "closed: " + head : head.substring(0, eol);
    }

    /** A client WebSocket frame header (FIN, text, masked with a zero key) for a payload of {@code length}. */
    static byte[] frameHeader(long length) {
        byte[] h;
        if (length <= 125) {
            h = new byte[] {(byte) 0x81, (byte) (0x80 | length), 0, 0, 0, 0};
        } else if (length <= 0xFFFF) {
            h = new byte[] {(byte) 0x81, (byte) (0x80 | 126), (byte) (length >> 8), (byte) length, 0, 0, 0, 0};
        } else {
            h = new byte[14];
            h[0] = (byte) 0x81;
            h[1] = (byte) (0x80 | 127);
            for (int i = 0; i < 8; i++) {
                h[2 + i] = (byte) (length >> (56 - 8 * i));
            }
        }
        return h;
    }

    static void sendFrame(OutputStream out, byte[] payload) throws IOException {
        out.write(frameHeader(payload.length));
        out.write(payload);
    }

    // ------------------------------------------------------------------ (a)

    /**
     * Idle TCP connections that send nothing, and half-sent HTTP request heads (a request line and
     * headers of about 8 KB, never the blank line that ends them). No credentials.
     */
    static final class Idle extends Attacks {
        private final int idle;
        private final int halfHeads;
        private final byte[] halfHead;
        final AtomicLong headsSent = new AtomicLong();

        Idle(List<InetAddress> from, int port, int idle, int halfHeads) {
            super("idle-tcp+half-heads", from, port);
            this.idle = idle;
            this.halfHeads = halfHeads;
            StringBuilder h = new StringBuilder("GET /stomp HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n");
            while (h.length() < 8000) {
                h.append("X-Pad-").append(h.length()).append(": ").append("a".repeat(200)).append("\r\n");
            }
            this.halfHead = h.toString().getBytes(StandardCharsets.US_ASCII);
        }

        @Override
        void launch() throws InterruptedException {
            for (int i = 0; i < halfHeads + idle && running; i++) {
                spawn(i, 0);
            }
        }

        @Override
        void work(Socket s, int i) throws IOException {
            if (i < halfHeads) {
                s.getOutputStream().write(halfHead);
                bytesSent.addAndGet(halfHead.length);
                headsSent.incrementAndGet();
            }
            // No thread per idle socket: stop() finds which ones the broker closed.
        }

        @Override
        Map<String, Object> figures() {
            Map<String, Object> m = super.figures();
            m.put("idle_requested", idle);
            m.put("half_heads_requested", halfHeads);
            m.put("half_heads_sent", headsSent.get());
            return m;
        }
    }

    // ------------------------------------------------------------------ (b)

    /**
     * Upgraded WebSocket connections (no CONNECT) that each announce one frame of
     * {@code frameLength} bytes and send all of it but the last byte, then hold.
     */
    static final class HalfFrames extends Attacks {
        private final int connections;
        private final long frameLength;
        private final long send;
        final AtomicLong upgraded = new AtomicLong();
        final AtomicLong notUpgraded = new AtomicLong();
        final AtomicLong framesAlmostComplete = new AtomicLong();
        final AtomicReference<String> firstRefusal = new AtomicReference<>();
        private final int port;

        HalfFrames(List<InetAddress> from, int port, int connections, long frameLength, long send) {
            super("half-sent-1MiB-frames", from, port);
            this.port = port;
            this.connections = connections;
            this.frameLength = frameLength;
            this.send = send;
        }

        @Override
        void launch() throws InterruptedException {
            for (int i = 0; i < connections && running; i++) {
                spawn(i, 0);
            }
        }

        @Override
        void work(Socket s, int i) throws IOException {
            String status = upgrade(s, port);
            if (!status.contains(" 101")) {
                notUpgraded.incrementAndGet();
                firstRefusal.compareAndSet(null, status);
                return;
            }
            upgraded.incrementAndGet();
            OutputStream out = s.getOutputStream();
            out.write(frameHeader(frameLength));
            byte[] chunk = new byte[65_536];
            java.util.Arrays.fill(chunk, (byte) 'A');
            long left = send;
            while (left > 0 && running) {
                int n = (int) Math.min(chunk.length, left);
                out.write(chunk, 0, n);
                bytesSent.addAndGet(n);
                left -= n;
            }
            if (left == 0) {
                framesAlmostComplete.incrementAndGet();
            }
            hold(s);
        }

        @Override
        Map<String, Object> figures() {
            Map<String, Object> m = super.figures();
            m.put("requested", connections);
            m.put("upgraded", upgraded.get());
            m.put("upgrade_refused", notUpgraded.get());
            m.put("first_refusal", firstRefusal.get());
            m.put("frames_sent_but_last_byte", framesAlmostComplete.get());
            return m;
        }
    }

    // ------------------------------------------------------------------ (c)

    /**
     * Authenticated sessions (a valid token each, distinct subjects) with a tiny receive buffer
     * that never read after the upgrade, each sending {@code ACK id:x receipt:<4000 chars>} frames
     * until {@code bytesPerSession}: the RECEIPTs pile up in the broker's send queues.
     */
    static final class PinnedQueues extends Attacks {
        private final List<String> tokens;
        private final long bytesPerSession;
        private final int receiveBuffer;
        private final int port;
        final AtomicLong upgraded = new AtomicLong();
        final AtomicLong notUpgraded = new AtomicLong();
        final AtomicLong acks = new AtomicLong();
        final AtomicLong sessionsDone = new AtomicLong();
        final AtomicReference<String> firstRefusal = new AtomicReference<>();

        PinnedQueues(List<InetAddress> from, int port, List<String> tokens, long bytesPerSession, int receiveBuffer) {
            super("pinned-send-queues", from, port);
            this.port = port;
            this.tokens = tokens;
            this.bytesPerSession = bytesPerSession;
            this.receiveBuffer = receiveBuffer;
        }

        @Override
        void launch() throws InterruptedException {
            for (int i = 0; i < tokens.size() && running; i++) {
                spawn(i, receiveBuffer);
            }
        }

        @Override
        void work(Socket s, int i) throws IOException {
            String status = upgrade(s, port);
            if (!status.contains(" 101")) {
                notUpgraded.incrementAndGet();
                firstRefusal.compareAndSet(null, status);
                return;
            }
            upgraded.incrementAndGet();
            OutputStream out = new java.io.BufferedOutputStream(s.getOutputStream(), 65_536);
            byte[] connect = ("CONNECT\naccept-version:1.2\nhost:localhost\nheart-beat:0,0\npasscode:"
                    + tokens.get(i) + "\n\n\0").getBytes(StandardCharsets.UTF_8);
            sendFrame(out, connect);
            byte[] ack = ("ACK\nid:x\nreceipt:" + "r".repeat(4000) + "\n\n\0").getBytes(StandardCharsets.US_ASCII);
            long sent = connect.length;
            while (sent < bytesPerSession && running) {
                sendFrame(out, ack);
                sent += ack.length;
                bytesSent.addAndGet(ack.length);
                acks.incrementAndGet();
            }
            out.flush();
            if (sent >= bytesPerSession) {
                sessionsDone.incrementAndGet();
            }
            // Never read: the socket's tiny receive buffer stays full of RECEIPTs.
            while (running) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        @Override
        Map<String, Object> figures() {
            Map<String, Object> m = super.figures();
            m.put("requested", tokens.size());
            m.put("upgraded", upgraded.get());
            m.put("upgrade_refused", notUpgraded.get());
            m.put("first_refusal", firstRefusal.get());
            m.put("ack_frames_sent", acks.get());
            m.put("sessions_sent_all", sessionsDone.get());
            return m;
        }
    }

    /** Loopback addresses {@code prefix.first} .. {@code prefix.(first + n - 1)}. */
    static List<InetAddress> addresses(String prefix, int first, int n) {
        List<InetAddress> out = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                out.add(InetAddress.getByName(prefix + "." + (first + i)));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }
}
