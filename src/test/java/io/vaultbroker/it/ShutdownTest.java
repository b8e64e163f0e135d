package io.vaultbroker.it;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Graceful shutdown: sessions are told (ERROR "server shutting down" with a retry hint, close 1012),
 * in process and for a real process sent SIGTERM.
 */
class ShutdownTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void sessionsGetTheShutdownErrorAndClose1012() throws Exception {
        Application app = TestBroker.start("shutdown.retry-spread", "PT10S");
        try (StompTestClient a = StompTestClient.connect(app.port(), TestBroker.adminToken());
             StompTestClient b = StompTestClient.connect(app.port(), TestBroker.adminToken())) {
            a.subscribe("h", "/system/health");
            a.next(WAIT);
            long t0 = System.nanoTime();
            app.stop();
            long stopMs = (System.nanoTime() - t0) / 1_000_000;
            for (StompTestClient c : new StompTestClient[] {a, b}) {
                StompTestClient.Received e = c.next(WAIT);
                assertThat(e.command(), is(StompCommand.ERROR));
                assertThat(e.header("message"), is("server shutting down"));
                long retry = Long.parseLong(e.header("x-retry-after-ms"));
                assertTrue(retry >= 1000 && retry <= 11_000, "retry hint within the spread: " + retry);
                assertTrue(c.awaitClosed(WAIT));
                assertThat(c.closeCode(), is(1012));
            }
            assertThat("stop() returns within the drain bound", stopMs, lessThan(8000L));
        }
    }

    @Test
    void sigtermEndsTheProcessGracefullyWithinTenSeconds() throws Exception {
        Path root = Path.of("").toAbsolutePath();
        String cp = Files.isDirectory(root.resolve("target/libs"))
                ? root.resolve("target/classes") + File.pathSeparator + root.resolve("target/libs") + File.separator + "*"
                : System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (ScratchDb db = ScratchDb.create(false)) {
            ProcessBuilder pb = new ProcessBuilder(javaBin, "-cp", cp, "io.vaultbroker.Main").redirectErrorStream(true);
            pb.environment().put("DB_CONNECTION_URL", db.url);
            pb.environment().put("SERVER_PORT", Integer.toString(port));
            pb.environment().put("SERVER_HOST", "127.0.0.1");
            pb.environment().put("AUTH_JWT_SECRET", TestBroker.SECRET);
            pb.environment().put("SHUTDOWN_RETRY_SPREAD", "PT5S");
            Process p = pb.start();
            StringBuffer log = new StringBuffer();
            Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        log.append(line).append('\n');
                    }
                } catch (Exception ignored) {
                    // The process ended.
                }
            });
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!log.toString().contains("listening on")) {
                    assertTrue(p.isAlive(), "the broker exited early:\n" + log);
                    assertTrue(System.nanoTime() < deadline, "the broker did not start:\n" + log);
                    Thread.sleep(50);
                }
                try (Socket probe = new Socket("127.0.0.1", port)) {
                    assertTrue(probe.isConnected());
                }
                try (StompTestClient c = StompTestClient.connect(port, TestBroker.adminToken())) {
                    c.subscribe("h", "/system/health");
                    c.next(WAIT);
                    long t0 = System.nanoTime();
                    p.destroy(); // SIGTERM
                    StompTestClient.Received e = c.next(WAIT);
                    assertThat(e.command(), is(StompCommand.ERROR));
                    assertThat(e.header("message"), is("server shutting down"));
                    assertTrue(Long.parseLong(e.header("x-retry-after-ms")) >= 1000);
                    assertTrue(c.awaitClosed(WAIT));
                    assertThat(c.closeCode(), is(1012));
                    assertTrue(p.waitFor(10, TimeUnit.SECONDS), "the process exits within 10 s of SIGTERM:\n" + log);
                    System.out.printf("SIGTERM to exit: %d ms (exit code %d)%n",
                            (System.nanoTime() - t0) / 1_000_000, p.exitValue());
                }
            } finally {
                if (p.isAlive()) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }
}
