package io.vaultbroker.it;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deadline for a complete request head (2 s here), on both sides, from accept and after a response. */
class RequestHeadDeadlineTest {
    private static final String HEAD = "GET /observe/health HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    private static Application app;

    @BeforeAll
    static void start() throws Exception {
        app = TestBroker.start("limits.request-head-timeout", "PT2S");
    }

    @AfterAll
    static void stop() {
        app.stop();
    }

    /** Milliseconds until the server closes the socket (read returns -1 or fails), reading what comes. */
    private static long msUntilClosed(Socket s, long fromNanos) throws Exception {
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        try {
            while (in.read() >= 0) {
                // drain
            }
        } catch (java.io.IOException e) {
            // reset: closed too
        }
        return (System.nanoTime() - fromNanos) / 1_000_000;
    }

    @Test
    void aHeadCompletedWithinTheDeadlineIsServedAndOneNeverCompletedIsClosedAtIt() throws Exception {
        try (Socket late = new Socket("127.0.0.1", app.port()); Socket never = new Socket("127.0.0.1", app.port())) {
            long t0 = System.nanoTime();
            late.getOutputStream().write(HEAD.getBytes(StandardCharsets.US_ASCII));
            never.getOutputStream().write(HEAD.getBytes(StandardCharsets.US_ASCII));
            // 1.5 s in, the first completes its head and gets its answer.
            Thread.sleep(1500);
            late.getOutputStream().write("Connection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            late.setSoTimeout(5000);
            String status = new String(late.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertThat(status, startsWith("HTTP/1.1 20"));
            long ms = msUntilClosed(never, t0);
            assertThat("closed at the deadline", ms, greaterThanOrEqualTo(1900L));
            assertThat("closed at the deadline", ms, lessThan(3500L));
        }
    }

    @Test
    void aKeptAliveConnectionMustSendItsNextHeadWithinTheDeadline() throws Exception {
        try (Socket s = new Socket("127.0.0.1", app.port())) {
            s.getOutputStream().write((HEAD + "\r\n").getBytes(StandardCharsets.US_ASCII));
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            String status = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            assertThat(status, startsWith("HTTP/1.1 20"));
            long answered = System.nanoTime();
            // A second request 1 s later, on the same connection, is served.
            Thread.sleep(1000);
            s.getOutputStream().write((HEAD + "\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] rest = new byte[64 * 1024];
            boolean second = false;
            long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            StringBuilder seen = new StringBuilder();
            while (!second && System.nanoTime() < until) {
                int n = in.read(rest);
                if (n < 0) {
                    break;
                }
                seen.append(new String(rest, 0, n, StandardCharsets.US_ASCII));
                second = seen.indexOf("HTTP/1.1 20") >= 0;
            }
            assertTrue(second, "the second request on the kept-alive connection is served");
            long ms = msUntilClosed(s, System.nanoTime());
            // Then nothing: closed about 2 s after the second response.
            assertThat(ms, greaterThanOrEqualTo(1500L));
            assertThat(ms, lessThan(3500L));
            assertThat((System.nanoTime() - answered) / 1_000_000, greaterThanOrEqualTo(2500L));
        }
    }
}
