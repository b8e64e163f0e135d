package io.vaultbroker.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The broker under test, run as its own process ({@code java -jar target/vault-broker.jar}) with
 * its output in a log file. Confined to the main thread.
 */
final class BrokerProcess implements AutoCloseable {
    private static final String LISTENING = "listening on ws://";

    final Process process;
    final int port;
    final Path log;
    final long startNanos;
    /** The JVM's GC log, when the caller asked for one (-Xlog:gc:file=...), else null. */
    final Path gcLog;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private BrokerProcess(Process process, int port, Path log, long startNanos, Path gcLog) {
        this.process = process;
        this.port = port;
        this.log = log;
        this.startNanos = startNanos;
        this.gcLog = gcLog;
    }

    static BrokerProcess start(Path jar, List<String> javaOpts, Map<String, String> env, Path log) throws IOException {
        return start(jar, javaOpts, env, log, 0, null);
    }

    /**
     * @param nofile the broker's open-files limit (soft and hard), or 0 to inherit the generator's;
     *               set by a shell that then becomes the JVM ({@code exec}), so the pid is the broker's
     */
    static BrokerProcess start(Path jar, List<String> javaOpts, Map<String, String> env, Path log, int nofile,
                               Path gcLog) throws IOException {
        int port = freePort();
        List<String> cmd = new ArrayList<>();
        if (nofile > 0) {
            cmd.addAll(List.of("/bin/sh", "-c", "ulimit -n " + nofile + " && exec \"$@\"", "sh"));
        }
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(javaOpts);
        cmd.add("-jar");
        cmd.add(jar.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        pb.environment().put("SERVER_PORT", Integer.toString(port));
        pb.environment().put("SERVER_HOST", "127.0.0.1");
        Files.createDirectories(log.getParent());
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        long t0 = System.nanoTime();
        Process p = pb.start();
        return new BrokerProcess(p, port, log, t0, gcLog);
    }

    long pid() {
        return process.pid();
    }

    /** Nanoseconds from process start until /observe/health answers 200. */
    long awaitHealthy(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/observe/health"))
                .timeout(Duration.ofSeconds(2)).build();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the broker exited with " + process.exitValue() + "; see " + log);
            }
            try {
                if (http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return System.nanoTime() - startNanos;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(10);
        }
        throw new IllegalStateException("the broker was not healthy within " + timeout + "; see " + log);
    }

    /** Milliseconds since JVM start that the broker's own log reports for Helidon and for "listening", or -1. */
    long[] logTimes() throws IOException {
        long helidon = -1;
        boolean listening = false;
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            int i = line.indexOf(" milliseconds since JVM startup");
            if (i > 0) {
                String before = line.substring(0, i);
                helidon = Long.parseLong(before.substring(before.lastIndexOf(' ') + 1));
            }
            listening |= line.contains(LISTENING);
        }
        return new long[] {helidon, listening ? 1 : 0};
    }

    /** Used heap bytes from /observe/metrics, or -1. */
    long heapUsed() {
        try {
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/observe/metrics"))
                    .header("Accept", "text/plain").timeout(Duration.ofSeconds(5)).build();
            String body = http.send(req, HttpResponse.BodyHandlers.ofString()).body();
            for (String line : body.split("\n")) {
                if (line.startsWith("memory_usedHeap_bytes")) {
                    return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return -1;
    }

    /** The broker's open file descriptors (sockets included), or -1 once it is gone. */
    long openFiles() {
        String[] fds = new java.io.File("/proc/" + pid() + "/fd").list();
        return fds == null ? -1 : fds.length;
    }

    /** The broker's soft open-files limit from /proc/PID/limits, or -1. */
    long openFilesLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/limits"))) {
                if (line.startsWith("Max open files")) {
                    return Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** GET /observe/health: the status code and body (or -1 and why not), within {@code timeout}. */
    String[] health(Duration timeout) {
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/observe/health"))
                .timeout(timeout).build();
        try {
            HttpResponse<String> r = http.sendAsync(req, HttpResponse.BodyHandlers.ofString())
                    .get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS);
            return new String[] {Integer.toString(r.statusCode()), r.body()};
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new String[] {"-1", "interrupted"};
        } catch (Exception e) {
            return new String[] {"-1", String.valueOf(e.getCause() != null ? e.getCause() : e)};
        }
    }

    /** Lines of the broker's log that contain {@code text}. */
    long logCount(String text) {
        try (var lines = Files.lines(log, StandardCharsets.ISO_8859_1)) {
            return lines.filter(l -> l.contains(text)).count();
        } catch (IOException | java.io.UncheckedIOException e) {
            return -1;
        }
    }

    /** Asks the broker JVM for a full GC (jcmd), so heap readings compare live data; false if jcmd failed. */
    boolean gc() {
        try {
            Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
            Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid()), "GC.run")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
