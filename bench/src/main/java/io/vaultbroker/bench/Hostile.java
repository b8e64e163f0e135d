package io.vaultbroker.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.HdrHistogram.Histogram;

import io.vaultbroker.auth.TokenMinter;

/**
 * The {@code hostile} scenario: honest sessions (spread over 127.0.1.x, at most
 * {@code honest-per-address} each, so the broker's default per-address limits apply) receive the
 * producers' rows while one attack at a time runs from 127.0.0.2.. for {@code phase-seconds}:
 * idle TCP connections and half-sent request heads, half-sent 1 MiB WebSocket frames, pinned send
 * queues. Per phase: honest latency and loss (every row checked), fresh CONNECTs from 127.0.2.1,
 * what the attack got, the broker's open files and heap high-water mark (its GC log), and whether
 * it still answers afterwards. A broker that died or stopped answering is reported and, unless
 * {@code --restart=false}, replaced for the next phase, so every attack is measured.
 *
 * <p>Threading: runs on the main thread; a sampler and a prober thread per phase only write atomics.
 */
final class Hostile {
    private static final Pattern GC_LINE =
            Pattern.compile("^\\[(\\d+)[.,](\\d+)s\\].*?(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");

    private final LoadGenerator g;
    private final Options o;
    private final String url;
    private final byte[] secret = TokenMinter.randomSecret();
    private final TokenMinter minter = new TokenMinter(secret);
    private final List<String> table = new ArrayList<>();
    // The honest sessions of the moment, for the keep-alive thread.
    private volatile List<BenchSession> current = List.of();

    Hostile(LoadGenerator g, Options o, String url) {
        this.g = g;
        this.o = o;
        this.url = url;
    }

    void run() throws Exception {
        int users = o.i("users");
        int devices = o.i("devices");
        double rate = o.d("rate");
        List<String> phases = List.of(o.s("phases").split(","));
        long rows = 0;
        for (String p : phases) {
            rows += (long) (rate * seconds(p));
        }
        Ledger ledger = new Ledger(users, rows + 10_000);
        String[] owners = new String[users];
        String[] tokens = new String[users];
        for (int u = 0; u < users; u++) {
            owners[u] = LoadGenerator.pubkey();
            tokens[u] = minter.mint(owners[u], Set.of(), Duration.ofHours(6));
        }
        int perAddress = o.i("honest-per-address");
        int honest = users * devices;
        List<InetAddress> honestFrom = Attacks.addresses("127.0.1", 1, Math.max(1, (honest + perAddress - 1) / perAddress));
        List<InetAddress> attackFrom = Attacks.addresses("127.0.0", 2, o.i("attack-addresses"));
        ExecutorService pool = Executors.newFixedThreadPool(o.i("client-threads"),
                Thread.ofPlatform().name("client-", 0).daemon(true).factory());
        List<HttpClient> clients = new ArrayList<>();
        for (InetAddress a : honestFrom) {
            clients.add(HttpClient.newBuilder().executor(pool).localAddress(a).build());
        }
        HttpClient probeClient = HttpClient.newBuilder().executor(pool)
                .localAddress(InetAddress.getByName("127.0.2.1")).connectTimeout(Duration.ofSeconds(5)).build();
        g.result.put("honest_sessions", honest);
        g.result.put("honest_addresses", honestFrom.size() + " (127.0.1.1..)");
        g.result.put("attack_addresses", attackFrom.size() + " (127.0.0.2..)");
        g.result.put("broker_java_opts", o.s("broker-java-opts"));
        g.result.put("broker_nofile", o.i("broker-nofile"));

        List<Map<String, Object>> rowsOut = new ArrayList<>();
        List<BenchSession> sessions = new ArrayList<>();
        // Honest clients are not silent for minutes: a heart-beat every 5 s keeps them clear of any
        // idle-connection deadline the broker sets for attackers.
        Thread keepAlive = Thread.ofPlatform().daemon(true).name("keep-alive").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(5000);
                } catch (InterruptedException e) {
                    return;
                }
                List<BenchSession> now = current;
                for (BenchSession s : now) {
                    s.keepAlive();
                }
            }
        });
        BrokerProcess broker = null;
        int starts = 0;
        try {
            for (String phase : phases) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("phase", phase);
                rowsOut.add(row);
                if (broker == null || !usable(broker)) {
                    if (broker != null && !o.b("restart")) {
                        row.put("skipped", "the broker is not answering (--restart=false)");
                        continue;
                    }
                    if (broker != null) {
                        abort(sessions);
                        broker.close();
                    }
                    try {
                        broker = start(++starts);
                    } catch (IllegalStateException e) {
                        broker = null;
                        row.put("skipped", "the broker did not start: " + e.getMessage());
                        g.failures.add(phase + ": the broker did not start: " + e.getMessage());
                        continue;
                    }
                    row.put("broker_restarted", starts > 1);
                    sessions = new ArrayList<>();
                    for (int u = 0; u < users; u++) {
                        for (int d = 0; d < devices; d++) {
                            sessions.add(session(sessions.size(), owners, tokens, u, ledger));
                        }
                    }
                    current = List.copyOf(sessions);
                    g.connect(broker, clients, sessions);
                } else {
                    reconnect(broker, clients, sessions, owners, tokens, ledger, row);
                }
                current = List.copyOf(sessions);
                runPhase(phase, broker, sessions, ledger, owners, attackFrom, probeClient, row);
            }
        } finally {
            keepAlive.interrupt();
            abort(sessions);
            if (broker != null) {
                broker.close();
            }
            pool.shutdownNow();
        }
        g.result.put("broker_starts", starts);
        g.result.put("phases", rowsOut);
        tableOf(rowsOut);
    }

    private int seconds(String phase) {
        return phase.equals("baseline") ? o.i("baseline-seconds") : o.i("phase-seconds");
    }

    private BenchSession session(int index, String[] owners, String[] tokens, int u, Ledger ledger) {
        return new BenchSession(index, owners[u], u, tokens[u], "0,0",
                new String[] {"/user/" + owners[u] + "/balance", "/user/" + owners[u] + "/tx"}, ledger);
    }

    private BrokerProcess start(int n) throws Exception {
        Path gcLog = Path.of(o.s("out"), "broker-hostile-" + n + "-gc-" + System.currentTimeMillis() + ".log");
        BrokerProcess b = g.startBroker(url, "hostile-" + n, secret, false, o.i("broker-nofile"),
                List.of("-Xlog:gc:file=" + gcLog.toAbsolutePath()), gcLog);
        b.awaitHealthy(Duration.ofSeconds(60));
        g.result.put("broker_open_files_limit", b.openFilesLimit());
        return b;
    }

    private static boolean usable(BrokerProcess b) {
        return b.process.isAlive() && "200".equals(b.health(Duration.ofSeconds(3))[0]);
    }

    private static void abort(List<BenchSession> sessions) {
        for (BenchSession s : sessions) {
            WebSocket ws = s.ws;
            if (ws != null) {
                ws.abort();
            }
        }
    }

    // Honest sessions the broker closed (or that never connected) are replaced by new ones.
    private void reconnect(BrokerProcess broker, List<HttpClient> clients, List<BenchSession> sessions,
                           String[] owners, String[] tokens, Ledger ledger, Map<String, Object> row)
            throws InterruptedException {
        List<BenchSession> fresh = new ArrayList<>();
        for (int i = 0; i < sessions.size(); i++) {
            BenchSession s = sessions.get(i);
            if (s.closed || s.ready.isCompletedExceptionally() || !s.ready.isDone()) {
                WebSocket ws = s.ws;
                if (ws != null) {
                    ws.abort();
                }
                BenchSession n = session(s.index, owners, tokens, s.user, ledger);
                sessions.set(i, n);
                fresh.add(n);
            }
        }
        if (!fresh.isEmpty()) {
            g.connect(broker, clients, fresh);
            long ok = fresh.stream().filter(s -> s.ready.isDone() && !s.ready.isCompletedExceptionally()).count();
            row.put("honest_reconnected", ok + "/" + fresh.size());
        }
    }

    private void runPhase(String phase, BrokerProcess broker, List<BenchSession> sessions, Ledger ledger,
                          String[] owners, List<InetAddress> attackFrom, HttpClient probeClient,
                          Map<String, Object> row) throws Exception {
        long afterId = ledger.maxCommittedId();
        Histogram latency = ledger.startPhase(afterId);
        long fdsBefore = broker.openFiles();
        long limit = broker.openFilesLimit();
        row.put("honest_ready", sessions.stream().filter(s -> s.ready.isDone() && !s.ready.isCompletedExceptionally()).count());
        row.put("broker_fds_before", fdsBefore);
        Attacks attack = attack(phase, broker, attackFrom, limit, fdsBefore);
        double upStart = uptime(broker);

        AtomicLong peakFds = new AtomicLong(fdsBefore);
        AtomicLong peakHeap = new AtomicLong(-1);
        Thread sampler = Thread.ofPlatform().daemon(true).name("sampler").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peakFds.accumulateAndGet(broker.openFiles(), Math::max);
                peakHeap.accumulateAndGet(broker.heapUsed(), Math::max);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        Prober prober = new Prober(probeClient, broker.port);
        Thread probe = Thread.ofPlatform().daemon(true).name("prober").start(prober);
        if (attack != null) {
            attack.start();
        }

        int secs = seconds(phase);
        double rate = o.d("rate");
        int producers = o.i("producers");
        long start = System.nanoTime() + 200_000_000L;
        long end = start + TimeUnit.SECONDS.toNanos(secs);
        List<Producer> ps = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            Producer pr = new Producer(url, o.s("pg-user"), o.s("pg-password"), p, producers, rate, (long) (rate * secs),
                    o.i("rows-per-tx"), !o.s("synchronous-commit").equals("off"), owners, ledger, start, end);
            ps.add(pr);
            threads.add(Thread.ofPlatform().name("producer").start(pr));
        }
        for (Thread t : threads) {
            t.join();
        }
        long upTo = ledger.maxCommittedId();
        Map<Integer, Integer> perUser = recipients(sessions);
        long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.i("drain-timeout"));
        Ledger.Check c = ledger.check(afterId, upTo, d -> perUser.getOrDefault(d / 2, 0));
        while (c.messagesLost() > 0 && System.nanoTime() < drainDeadline) {
            Thread.sleep(100);
            c = ledger.check(afterId, upTo, d -> perUser.getOrDefault(d / 2, 0));
        }
        prober.running = false;
        probe.join(10_000);
        Map<String, Object> af = null;
        if (attack != null) {
            attack.stop();
            af = attack.figures();
        }
        sampler.interrupt();
        sampler.join(10_000);
        double upEnd = uptime(broker);

        // Afterwards: let the broker release what the attack held, then ask whether it still serves.
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < settle && broker.process.isAlive() && broker.openFiles() > fdsBefore + 100) {
            Thread.sleep(100);
        }
        String[] health = broker.health(Duration.ofSeconds(3));
        boolean alive = broker.process.isAlive();
        boolean accepts = tcpAccepts(broker.port);
        long[] gcPeak = gcPeak(broker, upStart, upEnd);

        for (Producer p : ps) {
            if (p.error != null) {
                g.failures.add(phase + ": producer failed: " + p.error);
            }
        }
        long target = (long) (rate * secs);
        row.put("rows_target", target);
        row.put("rows_committed", c.rows());
        if (c.rows() < 0.95 * target) {
            g.limits.add(phase + ": producers committed " + c.rows() + " of " + target
                    + " rows (PostgreSQL, the generator or a starved machine is the limit)");
        }
        row.put("honest_messages_expected", c.messagesExpected());
        row.put("honest_lost", c.messagesLost());
        row.put("honest_rows_incomplete", c.rowsIncomplete());
        row.put("honest_duplicates", c.duplicates());
        row.put("honest_closed_by_broker", sessions.stream().filter(s -> s.closed && s.ready.isDone()
                && !s.ready.isCompletedExceptionally()).count());
        row.put("honest_first_close", sessions.stream().filter(s -> s.closed && s.error != null).map(s -> s.error)
                .findFirst().orElse(null));
        // No delivery at all (a broker that died at once) has no latency, not 0 ms.
        boolean any = latency.getTotalCount() > 0;
        row.put("honest_deliveries", latency.getTotalCount());
        row.put("p50_ms", any ? ms(latency.getValueAtPercentile(50)) : null);
        row.put("p99_ms", any ? ms(latency.getValueAtPercentile(99)) : null);
        row.put("max_ms", any ? ms(latency.getMaxValue()) : null);
        row.put("connect_probes_ok", prober.ok.get() + "/" + prober.attempts.get());
        row.put("connect_probe_max_ms", prober.maxMs.get());
        row.put("connect_probe_first_error", prober.firstError);
        row.put("broker_fds_peak", peakFds.get());
        row.put("broker_open_files_limit", limit);
        row.put("heap_peak_gc_log_mb", gcPeak[0] < 0 ? null : gcPeak[0] / 1024);
        row.put("heap_max_mb", gcPeak[1] < 0 ? null : gcPeak[1] / 1024);
        row.put("heap_peak_metrics_mb", peakHeap.get() < 0 ? null : peakHeap.get() >> 20);
        row.put("attack", af);
        row.put("after_broker_alive", alive);
        row.put("after_port_accepts", accepts);
        row.put("after_health", health[0] + " " + FeedChaos.shorten(health[1], 160));
        row.put("log_out_of_memory", broker.logCount("OutOfMemoryError"));
        row.put("log_too_many_open_files", broker.logCount("Too many open files"));
        if (c.messagesLost() > 0) {
            g.failures.add(phase + ": " + c.messagesLost() + " honest deliveries lost (" + c.rowsIncomplete()
                    + " of " + c.rows() + " rows incomplete)");
        }
        if (!alive || !accepts || !health[0].equals("200")) {
            g.failures.add(phase + ": afterwards the broker " + (!alive ? "had exited"
                    : !accepts ? "no longer accepted connections" : "answered health with " + health[0]));
        }
        if (prober.ok.get() < prober.attempts.get()) {
            g.failures.add(phase + ": " + (prober.attempts.get() - prober.ok.get()) + " of " + prober.attempts.get()
                    + " honest CONNECTs failed; first: " + prober.firstError);
        }
        if (broker.logCount("OutOfMemoryError") > 0) {
            g.failures.add(phase + ": OutOfMemoryError in the broker's log");
        }
    }

    private Attacks attack(String phase, BrokerProcess broker, List<InetAddress> from, long limit, long fdsBefore) {
        return switch (phase) {
            case "baseline" -> null;
            case "idle" -> {
                int halfHeads = o.i("half-heads");
                long room = limit > 0 ? limit - fdsBefore : 20_000;
                int idle = (int) Math.max(0, room - halfHeads) + o.i("idle-extra");
                // The generator shares the machine's open-files limit: keep 500 descriptors spare.
                long own = ownRoom() - 500;
                if (own >= 0 && idle + halfHeads > own) {
                    g.limits.add("idle: the generator can open only " + own + " more sockets, not " + (idle + halfHeads)
                            + " (its own open-files limit); the attack is smaller than the broker's limit");
                    idle = (int) Math.max(0, own - halfHeads);
                }
                yield new Attacks.Idle(from, broker.port, idle, halfHeads);
            }
            case "frames" -> new Attacks.HalfFrames(from, broker.port, o.i("frame-connections-per-address") * from.size(),
                    1 << 20, (1 << 20) - 1);
            case "pinned" -> {
                List<String> tokens = new ArrayList<>();
                for (int i = 0; i < o.i("pinned-sessions"); i++) {
                    tokens.add(minter.mint(LoadGenerator.pubkey(), Set.of(), Duration.ofHours(1)));
                }
                yield new Attacks.PinnedQueues(from, broker.port, tokens, o.l("pinned-bytes"), 4096);
            }
            default -> throw new IllegalArgumentException("unknown phase " + phase + " (baseline, idle, frames, pinned)");
        };
    }

    // Descriptors this process may still open (its soft limit minus those open), or -1.
    private static long ownRoom() {
        try {
            String[] fds = new java.io.File("/proc/self/fd").list();
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files") && fds != null) {
                    return Long.parseLong(line.substring("Max open files".length()).trim().split("\\s+")[0]) - fds.length;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    private static Map<Integer, Integer> recipients(List<BenchSession> sessions) {
        Map<Integer, Integer> perUser = new HashMap<>();
        for (BenchSession s : sessions) {
            if (s.ready.isDone() && !s.ready.isCompletedExceptionally()) {
                perUser.merge(s.user, 1, Integer::sum);
            }
        }
        return perUser;
    }

    private static boolean tcpAccepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static double uptime(BrokerProcess b) {
        return (System.nanoTime() - b.startNanos) / 1e9;
    }

    // The largest heap in use before any GC in [from, to] seconds of the broker's uptime, and the
    // heap's size then, in KiB (-1 when the log has none).
    private static long[] gcPeak(BrokerProcess b, double from, double to) {
        long peak = -1;
        long max = -1;
        try {
            for (String line : Files.readAllLines(b.gcLog, StandardCharsets.ISO_8859_1)) {
                Matcher m = GC_LINE.matcher(line);
                if (!m.find()) {
                    continue;
                }
                double t = Double.parseDouble(m.group(1) + "." + m.group(2));
                max = Math.max(max, kib(m.group(7), m.group(8)));
                if (t >= from - 1 && t <= to + 1) {
                    peak = Math.max(peak, kib(m.group(3), m.group(4)));
                }
            }
        } catch (IOException | RuntimeException e) {
            return new long[] {-1, -1};
        }
        return new long[] {peak, max};
    }

    private static long kib(String n, String unit) {
        long v = Long.parseLong(n);
        return switch (unit) {
            case "G" -> v << 20;
            case "M" -> v << 10;
            default -> v;
        };
    }

    private static double ms(long micros) {
        return Math.round(micros / 10.0) / 100.0;
    }

    // One line per phase, the columns the issue asks for.
    private void tableOf(List<Map<String, Object>> rows) {
        table.add(String.format("  broker %s, open files %s; %s honest sessions from %s; attacks from %s;"
                + " rows/s target %s", o.s("broker-java-opts"), g.result.get("broker_open_files_limit"),
                g.result.get("honest_sessions"), g.result.get("honest_addresses"), g.result.get("attack_addresses"),
                o.s("rate")));
        table.add(String.format("  %-9s %7s %6s %8s %8s %9s %-24s %9s %9s %-6s %s", "phase", "rows", "lost",
                "p99 ms", "max ms", "CONNECTs", "attack: got / refused", "fds peak", "heap MiB", "after", "health after"));
        for (Map<String, Object> r : rows) {
            if (r.containsKey("skipped")) {
                table.add(String.format("  %-9s skipped: %s", r.get("phase"), r.get("skipped")));
                continue;
            }
            String got = "-";
            if (r.get("attack") instanceof Map<?, ?> a) {
                // Idle sockets: what the broker itself took (its descriptors), not what the
                // kernel's backlog completed; upgraded connections: the 101 responses.
                Object up = a.containsKey("upgraded") ? a.get("upgraded")
                        : "+" + (num(r.get("broker_fds_peak")) - num(r.get("broker_fds_before"))) + " fds";
                long refused = num(a.get("refused")) + num(a.get("connect_timed_out")) + num(a.get("upgrade_refused"));
                got = up + " / " + refused + " (closed " + num(a.get("closed_at_end")) + ")";
            }
            Object heap = r.get("heap_peak_gc_log_mb") != null ? r.get("heap_peak_gc_log_mb") : r.get("heap_peak_metrics_mb");
            String after = Boolean.TRUE.equals(r.get("after_broker_alive"))
                    ? (Boolean.TRUE.equals(r.get("after_port_accepts")) ? "up" : "port closed") : "dead";
            table.add(String.format("  %-9s %7s %6s %8s %8s %9s %-24s %9s %9s %-6s %s", r.get("phase"), r.get("rows_committed"),
                    r.get("honest_lost"), r.get("p99_ms"), r.get("max_ms"), r.get("connect_probes_ok"), got,
                    r.get("broker_fds_peak") + "/" + r.get("broker_open_files_limit"),
                    heap + "/" + r.get("heap_max_mb"), after, FeedChaos.shorten(String.valueOf(r.get("after_health")), 50)));
        }
        g.table.addAll(table);
    }

    private static long num(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }

    /**
     * An honest user arriving during the attack: a new session (its own subject, from 127.0.2.1)
     * CONNECTs and subscribes once a second; counts how many got their RECEIPT within 5 s.
     * Runs on its own thread; counters are atomic.
     */
    private final class Prober implements Runnable {
        private final HttpClient client;
        private final URI uri;
        volatile boolean running = true;
        final AtomicLong attempts = new AtomicLong();
        final AtomicLong ok = new AtomicLong();
        final AtomicLong maxMs = new AtomicLong();
        volatile String firstError;
        private final Ledger none = new Ledger(1, 16);

        Prober(HttpClient client, int port) {
            this.client = client;
            this.uri = URI.create("ws://127.0.0.1:" + port + "/stomp");
        }

        @Override
        public void run() {
            while (running) {
                long t0 = System.nanoTime();
                String pk = LoadGenerator.pubkey();
                BenchSession s = new BenchSession(0, pk, -1, minter.mint(pk, Set.of(), Duration.ofMinutes(5)), "0,0",
                        new String[] {"/user/" + pk + "/balance", "/user/" + pk + "/tx"}, none);
                attempts.incrementAndGet();
                try {
                    client.newWebSocketBuilder().subprotocols("v12.stomp").connectTimeout(Duration.ofSeconds(5))
                            .buildAsync(uri, s).exceptionally(t -> {
                                s.ready.completeExceptionally(t);
                                return null;
                            });
                    s.ready.get(5, TimeUnit.SECONDS);
                    ok.incrementAndGet();
                    maxMs.accumulateAndGet(Attacks.millisSince(t0), Math::max);
                } catch (Exception e) {
                    if (firstError == null) {
                        firstError = s.error != null ? s.error : e.toString();
                    }
                } finally {
                    WebSocket ws = s.ws;
                    if (ws != null) {
                        ws.abort();
                    }
                }
                long left = 1000 - Attacks.millisSince(t0);
                if (left > 0 && running) {
                    try {
                        Thread.sleep(left);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }
    }
}
