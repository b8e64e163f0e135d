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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker in a child JVM with a small heap and a low open-files limit (set by {@code prlimit}
 * in its launch command), against a database of its own (other tests' open transactions in the
 * shared one would hold its rows back at their id gaps), for attacks that would take the test's
 * own JVM with them. Its log is kept in memory.
 */
final class ChildBroker implements AutoCloseable {
    private static final Pattern BUDGET = Pattern.compile("connection budget: (\\d+) TCP connections");
    final int port;
    final ScratchDb db;
    private final Process process;
    private final StringBuffer log = new StringBuffer();
    private Thread logDone;

    private ChildBroker(int port, ScratchDb db, Process process) {
        this.port = port;
        this.db = db;
        this.process = process;
    }

    /** Starts the broker with {@code -Xmx<heap>} under an open-files limit of {@code openFiles}; env as name, value pairs. */
    static ChildBroker start(String heap, int openFiles, String... env) throws Exception {
        ChildBroker b = launch(heap, openFiles, env);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!b.log().contains("listening on")) {
            if (!b.process.isAlive()) {
                b.close();
                throw new AssertionError("the broker exited early:\n" + b.log());
            }
            assertTrue(System.nanoTime() < deadline, "the broker did not start:\n" + b.log());
            Thread.sleep(50);
        }
        return b;
    }

    /** Launches the broker and waits for it to exit by itself (within 30 s); the broker, to read its log and exit code. */
    static ChildBroker runToExit(String heap, int openFiles, String... env) throws Exception {
        ChildBroker b = launch(heap, openFiles, env);
        assertTrue(b.process.waitFor(30, TimeUnit.SECONDS), "the broker did not exit:\n" + b.log());
        b.logDone.join(5000);
        return b;
    }

    int exitCode() {
        return process.exitValue();
    }

    private static ChildBroker launch(String heap, int openFiles, String... env) throws Exception {
        ScratchDb db = ScratchDb.create(false);
        Path root = Path.of("").toAbsolutePath();
        String cp = Files.isDirectory(root.resolve("target/libs"))
                ? root.resolve("target/classes") + File.pathSeparator + root.resolve("target/libs") + File.separator + "*"
                : System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of("prlimit", "--nofile=" + openFiles + ":" + openFiles, "--",
                javaBin, "-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError", "-cp", cp, "io.vaultbroker.Main"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> e = pb.environment();
        e.put("DB_CONNECTION_URL", db.url);
        e.put("SERVER_PORT", Integer.toString(port));
        e.put("SERVER_HOST", "127.0.0.1");
        e.put("AUTH_JWT_SECRET", TestBroker.SECRET);
        for (int i = 0; i + 1 < env.length; i += 2) {
            e.put(env[i], env[i + 1]);
        }
        ChildBroker b = new ChildBroker(port, db, pb.start());
        b.logDone = Thread.ofVirtual().start(b::readLog);
        return b;
    }

    private void readLog() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                log.append(line).append('\n');
            }
        } catch (Exception ignored) {
            // The process ended.
        }
    }

    String log() {
        return log.toString();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** The TCP total the broker logged at start. */
    int tcpBudget() {
        Matcher m = BUDGET.matcher(log());
        assertTrue(m.find(), "no budget line in the log:\n" + log());
        return Integer.parseInt(m.group(1));
    }

    /** True when a new TCP connection is accepted and answered: GET /observe/health gets a status line. */
    boolean answers() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(("GET /observe/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] head = s.getInputStream().readNBytes(12);
            return new String(head, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 ");
        } catch (Exception e) {
            return false;
        }
    }

    /** The limit_hits lines of /observe/metrics. */
    String limitHits() {
        try {
            String all = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + port + "/observe/metrics")).timeout(Duration.ofSeconds(10)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            return String.join("\n", all.lines().filter(l -> l.contains("limit_hits") && !l.startsWith("#")).toList());
        } catch (Exception e) {
            return "metrics unavailable: " + e;
        }
    }

    /** The sum of the numbers the log's lines matching {@code pattern} (one group) carry. */
    long sumOf(String pattern) {
        Matcher m = Pattern.compile(pattern).matcher(log());
        long sum = 0;
        while (m.find()) {
            sum += Long.parseLong(m.group(1));
        }
        return sum;
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        db.close();
    }
}
