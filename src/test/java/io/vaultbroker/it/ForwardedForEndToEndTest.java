package io.vaultbroker.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Behind a trusted proxy (127.0.0.1 here) the address a session is logged and counted under is
 * the first untrusted X-Forwarded-For hop from the right, across all lines; a hop that is no IP
 * address refuses the upgrade with 400 and never reaches a log. With the PROXY protocol on, its
 * source address is the client.
 */
class ForwardedForEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final List<LogRecord> records = Collections.synchronizedList(new ArrayList<>());
    private final Handler capture = LogCapture.into(records);
    private Application app;

    @BeforeEach
    void listen() {
        capture.setLevel(Level.INFO);
        Logger.getLogger("io.vaultbroker").addHandler(capture);
    }

    @AfterEach
    void stop() {
        Logger.getLogger("io.vaultbroker").removeHandler(capture);
        if (app != null) {
            app.stop();
        }
    }

    @Test
    void theClientIsTheRightmostUntrustedHopAndGarbageIsRefused() throws Exception {
        app = TestBroker.start("limits.trusted-proxies.0", "127.0.0.1");
        int port = app.port();

        // A client-chosen first line, then the line our proxy appended.
        String session = refusedConnect(port, "", "X-Forwarded-For", "6.6.6.6", "X-Forwarded-For", "203.0.113.9");
        assertThat(session, is("203.0.113.9"));
        assertThat(refusedConnect(port, "", "X-Forwarded-For", "198.51.100.1, 2001:db8::7"), is("2001:db8:0:0:0:0:0:7"));
        assertThat(refusedConnect(port, "", "X-Forwarded-For", "127.0.0.1"), is("127.0.0.1"));

        String injected = "203.0.113.9) authentication ok (admin";
        try (RawWs ws = RawWs.upgrade(port, "/stomp", "X-Forwarded-For", injected)) {
            assertThat(ws.status(), is(400));
        }
        try (RawWs ws = RawWs.upgrade(port, "/stomp", "X-Forwarded-For", "203.0.113.9", "X-Forwarded-For", "evil.example")) {
            assertThat(ws.status(), is(400));
        }
        for (LogRecord r : List.copyOf(records)) {
            String m = String.valueOf(r.getMessage());
            assertFalse(m.contains("6.6.6.6") || m.contains("authentication ok") || m.contains("evil"), m);
        }
    }

    @Test
    void withTheProxyProtocolItsSourceIsTheClient() throws Exception {
        app = TestBroker.start("server.enable-proxy-protocol", "true");
        String preamble = "PROXY TCP4 192.0.2.55 10.0.0.1 5555 8080\r\n";
        // The client's own X-Forwarded-For is not the load balancer's word.
        assertThat(refusedConnect(app.port(), preamble, "X-Forwarded-For", "6.6.6.6"), is("192.0.2.55"));
        assertThat(refusedConnect(app.port(), "PROXY TCP6 2001:db8::55 2001:db8::1 5555 8080\r\n"),
                is("2001:db8:0:0:0:0:0:55"));
    }

    /** Upgrades, sends a CONNECT with a bad token, and returns the address its refusal was logged under. */
    private String refusedConnect(int port, String preamble, String... headers) throws Exception {
        int mark = records.size();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout((int) WAIT.toMillis());
            StringBuilder req = new StringBuilder(preamble).append("GET /stomp HTTP/1.1\r\nHost: 127.0.0.1:").append(port)
                    .append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n")
                    .append("Sec-WebSocket-Key: dmF1bHQtYnJva2VyLXRlcw==\r\n");
            for (int i = 0; i + 1 < headers.length; i += 2) {
                req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
            }
            s.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                assertTrue(b >= 0, "connection closed during the upgrade: " + head);
                head.write(b);
            }
            assertTrue(head.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 101"), head.toString());
            byte[] connect = "CONNECT\naccept-version:1.2\nhost:x\npasscode:not-a-token\n\n\0"
                    .getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            frame.write(0x81);
            frame.write(0x80 | connect.length);
            frame.write(new byte[4]);
            frame.write(connect);
            s.getOutputStream().write(frame.toByteArray());
            String line = awaitRecord(mark, m -> m.startsWith("authentication failed: session "));
            int from = line.indexOf(" from ") + 6;
            return line.substring(from, line.indexOf(' ', from));
        }
    }

    private String awaitRecord(int from, Predicate<String> match) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            synchronized (records) {
                for (LogRecord r : records.subList(from, records.size())) {
                    String m = String.valueOf(r.getMessage());
                    if (match.test(m)) {
                        return m;
                    }
                }
            }
            Thread.sleep(10);
        }
        throw new AssertionError("no matching log record within " + WAIT);
    }
}
