package io.vaultbroker.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * One attacker's connection from a chosen loopback source address (127.0.0.2 and up): raw TCP,
 * an optional WebSocket upgrade, masked frames of any declared length. It can watch for the
 * server closing it. Threading: one writer; {@link #watchClose} reads on its own virtual thread.
 */
final class AttackSocket implements AutoCloseable {
    final Socket socket;
    final long openedNanos = System.nanoTime();
    private final OutputStream out;
    private volatile long closedNanos;
    private volatile long upgradedNanos;

    private AttackSocket(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
    }

    /** Connects from {@code from} to the broker; {@code receiveBuffer} > 0 sets a small receive window. */
    static AttackSocket open(String from, int port, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer);
        }
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return new AttackSocket(s);
    }

    /** Sends an upgrade to {@code path} and reads the response head; true on 101. */
    boolean upgrade(String path) throws IOException {
        write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v12.stomp\r\nSec-WebSocket-Key: "
                + Base64.getEncoder().encodeToString("hostile-client-1".getBytes(StandardCharsets.US_ASCII))
                + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        socket.setSoTimeout(10_000);
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                return false;
            }
            head.write(b);
        }
        boolean ok = head.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 101");
        if (ok) {
            upgradedNanos = System.nanoTime();
        }
        return ok;
    }

    /** When the 101 response arrived; 0 when not upgraded. */
    long upgradedNanos() {
        return upgradedNanos;
    }

    /** When the server closed it; 0 while open. */
    long closedNanos() {
        return closedNanos;
    }

    /** A masked text frame header declaring {@code length} payload bytes (zero mask key). */
    void frameHeader(long length) throws IOException {
        out.write(RawWs.textFrameHeader(length));
    }

    /** One whole masked text frame. */
    void frame(String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        frameHeader(b.length);
        out.write(b);
    }

    void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads (and drops) what arrives on a virtual thread, and notes when the server closes. */
    void watchClose() {
        Thread.ofVirtual().start(() -> {
            try {
                socket.setSoTimeout(0);
                InputStream in = socket.getInputStream();
                byte[] buf = new byte[8192];
                while (in.read(buf) >= 0) {
                    // drop
                }
            } catch (IOException e) {
                // reset: closed too
            }
            closedNanos = System.nanoTime();
        });
    }

    /** Notes now as the moment the server closed (a write failed). */
    void closedNow() {
        if (closedNanos == 0) {
            closedNanos = System.nanoTime();
        }
    }

    boolean closedByServer() {
        return closedNanos != 0;
    }

    /** Milliseconds from open to the server's close; -1 while open. */
    long livedMs() {
        long c = closedNanos;
        return c == 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(c - openedNanos);
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // gone already
        }
    }
}
