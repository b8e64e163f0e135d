package io.vaultbroker.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.vaultbroker.auth.Base58;
import io.vaultbroker.auth.TokenMinter;

/**
 * The benchmark's load generator: starts the broker as its own process against a database it
 * creates, opens authenticated STOMP sessions over WebSocket, inserts rows into vault_events at a
 * fixed rate, and reports connect rate, loss, commit-to-receive latency, frames/s, the broker's
 * memory and CPU, and database queries per second while idle: a table, then one JSON line.
 * Runs on the main thread; clients call back on a small fixed pool; producers on their own threads.
 */
public final class LoadGenerator {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Scenario scenario;
    private final Options o;
    private final Map<String, Object> result = new LinkedHashMap<>();
    private final List<String> limits = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();

    private LoadGenerator(Scenario scenario, Options o) {
        this.scenario = scenario;
        this.o = o;
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            usage();
            return;
        }
        Scenario s;
        try {
            s = Scenario.valueOf(args[0].toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            System.err.println("unknown scenario " + args[0]);
            usage();
            System.exit(2);
            return;
        }
        Options o;
        try {
            o = new Options(s.options(), args, 1);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        int code = new LoadGenerator(s, o).run();
        System.exit(code);
    }

    private static void usage() {
        StringBuilder sb = new StringBuilder("""
                Usage: bench/run.sh SCENARIO [--option=value ...]
                       bench/run.sh jmh [JMH options, e.g. -f 1 -wi 2 -i 3 Codec]

                Scenarios:
                """);
        for (Scenario s : Scenario.values()) {
            sb.append(String.format("  %-11s %s%n", s.label(), s.description));
            sb.append(String.format("  %-11s defaults: %s%n", "", s.defaults));
        }
        sb.append("\nOptions (general defaults):\n");
        Scenario.COMMON.forEach((k, v) -> sb.append(String.format("  --%-20s %s%n", k, v)));
        System.out.print(sb);
    }

    private int run() throws Exception {
        result.put("scenario", scenario.label());
        result.put("started", Instant.now().toString());
        result.put("options", o.all());
        String url = "jdbc:postgresql://" + o.s("pg-host") + ":" + o.s("pg-port") + "/" + o.s("db");
        recreateDatabase();
        if (scenario == Scenario.STARTUP) {
            startup(url);
        } else {
            load(url);
        }
        result.put("limited_by", limits);
        result.put("failures", failures);
        report();
        return failures.isEmpty() ? 0 : 1;
    }

    // ---------------------------------------------------------------- startup

    private void startup(String url) throws Exception {
        int repeat = o.i("repeat");
        List<Long> ready = new ArrayList<>();
        List<Long> helidon = new ArrayList<>();
        List<Long> rss = new ArrayList<>();
        for (int i = 0; i < repeat; i++) {
            try (BrokerProcess b = startBroker(url, "startup-" + i, TokenMinter.randomSecret())) {
                long nanos = b.awaitHealthy(Duration.ofSeconds(60));
                ready.add(TimeUnit.NANOSECONDS.toMillis(nanos));
                helidon.add(b.logTimes()[0]);
                rss.add(ProcStats.rssKb(b.pid()));
            }
        }
        result.put("startup_runs", repeat);
        result.put("startup_ready_ms_each", ready);
        result.put("startup_ready_ms_median", median(ready));
        result.put("startup_helidon_ms_since_jvm_start_each", helidon);
        result.put("startup_rss_kb_each", rss);
        if (median(ready) > 2000) {
            limits.add("start-up " + median(ready) + " ms is over the 2 s target");
        }
    }

    // ---------------------------------------------------------------- load

    private void load(String url) throws Exception {
        int users = o.i("users");
        int devices = o.i("devices");
        int admins = o.i("admins");
        double rate = o.d("rate");
        double tvlRate = o.d("tvl-rate");
        int duration = o.i("duration");
        byte[] secret = TokenMinter.randomSecret();
        long expectedRows = (long) ((rate + tvlRate) * duration);
        Ledger ledger = new Ledger(users, expectedRows);

        try (BrokerProcess broker = startBroker(url, scenario.label(), secret)) {
            long pid = broker.pid();
            long startup = broker.awaitHealthy(Duration.ofSeconds(60));
            result.put("broker_pid", pid);
            result.put("broker_ready_ms", TimeUnit.NANOSECONDS.toMillis(startup));
            Thread.sleep(2000);
            broker.gc();
            long idleRss = ProcStats.rssKb(pid);
            long idleHeap = broker.heapUsed();
            result.put("broker_idle_rss_kb", idleRss);
            result.put("broker_idle_heap_used_kb", idleHeap / 1024);

            // Sessions: `devices` per user on its balance and tx destinations, then the admins.
            TokenMinter minter = new TokenMinter(secret);
            String[] owners = new String[users];
            List<BenchSession> sessions = new ArrayList<>();
            String hb = o.s("heartbeat");
            for (int u = 0; u < users; u++) {
                owners[u] = pubkey();
                String token = minter.mint(owners[u], Set.of(), Duration.ofHours(6));
                String[] dest = {"/user/" + owners[u] + "/balance", "/user/" + owners[u] + "/tx"};
                for (int d = 0; d < devices; d++) {
                    sessions.add(new BenchSession(sessions.size(), owners[u], u, token, hb, dest, ledger));
                }
            }
            for (int a = 0; a < admins; a++) {
                String subject = pubkey();
                String token = minter.mint(subject, Set.of("admin"), Duration.ofHours(6));
                sessions.add(new BenchSession(sessions.size(), subject, -1, token, hb,
                        new String[] {"/admin/tvl", "/system/health"}, ledger));
            }

            ExecutorService clientPool = Executors.newFixedThreadPool(o.i("client-threads"),
                    Thread.ofPlatform().name("client-", 0).daemon(true).factory());
            HttpClient http = HttpClient.newBuilder().executor(clientPool).build();
            try {
                connect(broker, http, sessions);
                if (!sessions.isEmpty()) {
                    Thread.sleep(3000);
                    broker.gc();
                    long rss = ProcStats.rssKb(pid);
                    long heap = broker.heapUsed();
                    long ok = sessions.stream().filter(s -> s.ready.isDone() && !s.ready.isCompletedExceptionally()).count();
                    result.put("broker_rss_kb_connected", rss);
                    result.put("broker_heap_used_kb_connected", heap / 1024);
                    if (ok > 0) {
                        result.put("rss_per_session_kb", round1((rss - idleRss) / (double) ok));
                        if (heap > 0 && idleHeap > 0) {
                            result.put("heap_per_session_kb", round1((heap - idleHeap) / 1024.0 / ok));
                        }
                    }
                }
                if (o.i("idle-seconds") > 0) {
                    idle(broker);
                }
                if (expectedRows > 0) {
                    produce(broker, url, owners, sessions, ledger, rate, tvlRate, duration);
                }
                checkSessions(sessions);
            } finally {
                for (BenchSession s : sessions) {
                    WebSocket ws = s.ws;
                    if (ws != null) {
                        ws.abort();
                    }
                }
                clientPool.shutdownNow();
            }
            result.put("broker_log", broker.log.toString());
        }
    }

    private BrokerProcess startBroker(String url, String label, byte[] secret) throws IOException {
        Map<String, String> env = new HashMap<>();
        env.put("AUTH_JWT_SECRET", new String(secret, StandardCharsets.US_ASCII));
        env.put("DB_CONNECTION_URL", url);
        env.put("DB_CONNECTION_USERNAME", o.s("pg-user"));
        env.put("DB_CONNECTION_PASSWORD", o.s("pg-password"));
        env.put("LIMITS_CONNECTIONS_PER_ADDRESS", "1000000");
        env.put("LIMITS_CONNECTIONS_TOTAL", "1000000");
        for (String kv : o.s("broker-env").split(",")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                env.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            }
        }
        List<String> opts = new ArrayList<>(Arrays.asList(o.s("broker-java-opts").trim().split("\\s+")));
        opts.removeIf(String::isEmpty);
        Path out = Path.of(o.s("out"));
        String stamp = Instant.now().toString().replace(":", "").replace(".", "");
        return BrokerProcess.start(Path.of(o.s("broker-jar")), opts, env, out.resolve("broker-" + label + "-" + stamp + ".log"));
    }

    private void connect(BrokerProcess broker, HttpClient http, List<BenchSession> sessions) throws InterruptedException {
        if (sessions.isEmpty()) {
            return;
        }
        URI uri = URI.create("ws://127.0.0.1:" + broker.port + "/stomp");
        Semaphore window = new Semaphore(o.i("connect-concurrency"));
        ProcStats.Cpu c0 = ProcStats.Cpu.take(broker.pid());
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(o.i("connect-timeout"));
        for (BenchSession s : sessions) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !window.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                break;
            }
            s.ready.whenComplete((v, t) -> window.release());
            http.newWebSocketBuilder().subprotocols("v12.stomp").connectTimeout(Duration.ofSeconds(30))
                    .buildAsync(uri, s)
                    .exceptionally(t -> {
                        s.ready.completeExceptionally(t);
                        return null;
                    });
        }
        long lastReady = t0;
        int ok = 0;
        int failed = 0;
        String firstError = null;
        for (BenchSession s : sessions) {
            try {
                long left = Math.max(1, deadline - System.nanoTime());
                long at = s.ready.get(left, TimeUnit.NANOSECONDS);
                lastReady = Math.max(lastReady, at);
                ok++;
            } catch (Exception e) {
                failed++;
                if (firstError == null) {
                    firstError = s.error != null ? s.error : String.valueOf(e);
                }
            }
        }
        ProcStats.Usage u = ProcStats.Cpu.take(broker.pid()).since(c0);
        double seconds = (lastReady - t0) / 1e9;
        result.put("sessions_requested", sessions.size());
        result.put("sessions_connected", ok);
        result.put("sessions_failed", failed);
        result.put("connect_seconds", round3(seconds));
        result.put("sessions_per_second", seconds > 0 ? Math.round(ok / seconds) : 0);
        result.put("connect_cpu_cores_broker", round2(u.brokerCores()));
        result.put("connect_cpu_cores_generator", round2(u.generatorCores()));
        result.put("connect_cpu_cores_postgres", round2(u.postgresCores()));
        result.put("connect_machine_busy_pct", round1(u.machineBusyPct()));
        result.put("connect_cpu_cores_other_processes", round2(u.otherCores()));
        if (failed > 0) {
            failures.add(failed + " of " + sessions.size() + " sessions did not connect; first: " + firstError);
        }
        generatorBound("connect", u);
    }

    private void idle(BrokerProcess broker) throws Exception {
        // PostgreSQL 15 flushes a backend's counters at most once a second, and an idle backend's
        // within 10 s: settle first so the window counts only idle time, whole.
        Thread.sleep(12_000);
        long[] x0 = transactions();
        ProcStats.Cpu c0 = ProcStats.Cpu.take(broker.pid());
        Thread.sleep(TimeUnit.SECONDS.toMillis(o.i("idle-seconds")));
        long[] x1 = transactions();
        ProcStats.Usage u = ProcStats.Cpu.take(broker.pid()).since(c0);
        double qps = (x1[0] - x0[0]) / u.seconds();
        result.put("idle_seconds", round1(u.seconds()));
        result.put("idle_db_transactions_per_second", round2(qps));
        result.put("idle_db_tuples_returned_per_second", round1((x1[1] - x0[1]) / u.seconds()));
        result.put("idle_broker_cpu_pct_of_core", round2(100 * u.brokerCores()));
        result.put("idle_broker_rss_kb", ProcStats.rssKb(broker.pid()));
        if (qps > 1.0) {
            limits.add("idle: " + round2(qps) + " database transactions/s is over the 1/s target");
        }
    }

    private void produce(BrokerProcess broker, String url, String[] owners, List<BenchSession> sessions, Ledger ledger,
                         double rate, double tvlRate, int duration) throws Exception {
        Thread.sleep(1000);
        String jfr = o.s("jfr");
        if (!jfr.isEmpty()) {
            jcmd(broker, "JFR.start", "name=bench", "settings=profile", "filename=" + Path.of(jfr).toAbsolutePath());
        }
        int producers = o.i("producers");
        int rowsPerTx = o.i("rows-per-tx");
        boolean syncCommit = !o.s("synchronous-commit").equals("off");
        long start = System.nanoTime() + 200_000_000L;
        long end = start + TimeUnit.SECONDS.toNanos(duration);
        List<Producer> ps = new ArrayList<>();
        if (rate > 0) {
            long total = (long) (rate * duration);
            for (int p = 0; p < producers; p++) {
                ps.add(new Producer(url, o.s("pg-user"), o.s("pg-password"), p, producers, rate, total, rowsPerTx,
                        syncCommit, owners, ledger, start, end));
            }
        }
        if (tvlRate > 0) {
            ps.add(new Producer(url, o.s("pg-user"), o.s("pg-password"), 0, 1, tvlRate, (long) (tvlRate * duration),
                    1, syncCommit, null, ledger, start, end));
        }
        List<Thread> threads = new ArrayList<>();
        for (Producer p : ps) {
            threads.add(Thread.ofPlatform().name("producer").start(p));
        }
        // Peak RSS, sampled once a second while loaded.
        AtomicLong peakRss = new AtomicLong();
        Thread sampler = Thread.ofPlatform().daemon(true).start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peakRss.accumulateAndGet(ProcStats.rssKb(broker.pid()), Math::max);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        ProcStats.Cpu c0 = ProcStats.Cpu.take(broker.pid());
        for (Thread t : threads) {
            t.join();
        }
        ProcStats.Usage u = ProcStats.Cpu.take(broker.pid()).since(c0);
        long producedNanos = System.nanoTime() - start;

        // Wait until every session has what was committed for it, or the drain timeout.
        long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.i("drain-timeout"));
        while (System.nanoTime() < drainDeadline && missing(sessions, ledger) > 0) {
            Thread.sleep(50);
        }
        sampler.interrupt();
        if (!jfr.isEmpty()) {
            jcmd(broker, "JFR.stop", "name=bench");
            result.put("jfr", Path.of(jfr).toAbsolutePath().toString());
        }
        long early = ledger.settleEarly();

        long committed = ledger.rowsCommitted.sum();
        long expected = 0;
        long got = 0;
        long lost = 0;
        long extra = 0;
        for (BenchSession s : sessions) {
            long e = expectedFor(s, ledger);
            long r = s.receivedTotal();
            expected += e;
            got += r;
            lost += Math.max(0, e - r);
            extra += Math.max(0, r - e);
        }
        double window = (ledger.lastMessageNanos.get() - start) / 1e9;
        var h = ledger.latencyUs;
        result.put("rows_target", (long) ((rate + tvlRate) * duration));
        result.put("rows_committed", committed);
        result.put("rows_per_second_achieved", Math.round(committed / (producedNanos / 1e9)));
        long behind = ps.stream().mapToLong(p -> p.maxBehindNanos).max().orElse(0);
        result.put("producer_max_behind_ms", TimeUnit.NANOSECONDS.toMillis(behind));
        result.put("messages_expected", expected);
        result.put("messages_received", got);
        result.put("messages_lost", lost);
        result.put("messages_unexpected", extra);
        result.put("out_of_order", sessions.stream().mapToLong(s -> s.outOfOrder).sum());
        result.put("frames_per_second", window > 0 ? Math.round(got / window) : 0);
        result.put("latency_ms_p50", ms(h.getValueAtPercentile(50)));
        result.put("latency_ms_p95", ms(h.getValueAtPercentile(95)));
        result.put("latency_ms_p99", ms(h.getValueAtPercentile(99)));
        result.put("latency_ms_p999", ms(h.getValueAtPercentile(99.9)));
        result.put("latency_ms_max", ms(h.getMaxValue()));
        result.put("latency_samples_before_commit_ack", early);
        result.put("load_cpu_cores_broker", round2(u.brokerCores()));
        result.put("load_cpu_cores_generator", round2(u.generatorCores()));
        result.put("load_cpu_cores_postgres", round2(u.postgresCores()));
        result.put("load_machine_busy_pct", round1(u.machineBusyPct()));
        result.put("load_cpu_cores_other_processes", round2(u.otherCores()));
        result.put("broker_peak_rss_kb", peakRss.get());
        result.put("broker_heap_used_kb_after", broker.heapUsed() / 1024);
        for (Producer p : ps) {
            if (p.error != null) {
                failures.add("producer failed: " + p.error);
            }
        }
        if (lost > 0) {
            failures.add(lost + " messages lost");
        }
        if (extra > 0) {
            failures.add(extra + " messages more than committed (duplicates)");
        }
        if ((long) result.get("out_of_order") > 0) {
            failures.add(result.get("out_of_order") + " messages out of id order");
        }
        if (committed < 0.95 * (rate + tvlRate) * duration) {
            limits.add("generator: producers committed " + committed + " of " + (long) ((rate + tvlRate) * duration)
                    + " rows (PostgreSQL commits or the generator are the limit, not the broker)");
        } else if (behind > 1_000_000_000L) {
            limits.add("generator: a producer fell " + TimeUnit.NANOSECONDS.toMillis(behind) + " ms behind schedule");
        }
        generatorBound("load", u);
        if (u.machineBusyPct() > 90) {
            limits.add("machine: " + round1(u.machineBusyPct()) + "% of all cores busy (broker "
                    + round2(u.brokerCores()) + ", generator " + round2(u.generatorCores()) + ", postgres "
                    + round2(u.postgresCores()) + " cores)");
        }
    }

    private void generatorBound(String phase, ProcStats.Usage u) {
        if (u.otherCores() > 0.25) {
            limits.add("noise: other processes used " + round2(u.otherCores()) + " cores during " + phase);
        }
        if (u.generatorCores() > 0.9) {
            limits.add("generator: " + phase + " used " + round2(u.generatorCores())
                    + " cores (> 0.9 of a core); on this machine it competes with the broker");
        }
    }

    private void checkSessions(List<BenchSession> sessions) {
        long closed = sessions.stream().filter(s -> s.ready.isDone() && !s.ready.isCompletedExceptionally() && s.closed).count();
        result.put("sessions_closed_by_broker", closed);
        if (closed > 0) {
            String why = sessions.stream().filter(s -> s.closed && s.error != null).map(s -> s.error).findFirst().orElse("?");
            failures.add(closed + " sessions were closed by the broker during the run; first: " + why);
        }
    }

    private static long missing(List<BenchSession> sessions, Ledger ledger) {
        long m = 0;
        for (BenchSession s : sessions) {
            if (!s.closed) {
                m += Math.max(0, expectedFor(s, ledger) - s.receivedTotal());
            }
        }
        return m;
    }

    private static long expectedFor(BenchSession s, Ledger ledger) {
        if (!s.ready.isDone() || s.ready.isCompletedExceptionally()) {
            return 0;
        }
        return s.user < 0 ? ledger.committedTvl.get()
                : ledger.committedBalance.get(s.user) + ledger.committedTx.get(s.user);
    }

    // ---------------------------------------------------------------- database

    private Connection admin() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + o.s("pg-host") + ":" + o.s("pg-port") + "/postgres",
                o.s("pg-user"), o.s("pg-password"));
    }

    private void recreateDatabase() throws SQLException {
        String db = o.s("db");
        if (!db.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("--db must be a plain lower-case identifier");
        }
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            s.execute("CREATE DATABASE " + db);
            try (ResultSet rs = s.executeQuery("SELECT version()")) {
                rs.next();
                result.put("postgres", rs.getString(1).replaceAll(" on .*", ""));
            }
        }
    }

    /** Transactions (commits + rollbacks) and tuples returned so far in the bench database. */
    private long[] transactions() throws SQLException {
        try (Connection c = admin(); var ps = c.prepareStatement(
                "SELECT xact_commit + xact_rollback, tup_returned FROM pg_stat_database WHERE datname = ?")) {
            ps.setString(1, o.s("db"));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    // ---------------------------------------------------------------- output

    private void report() throws IOException {
        StringBuilder t = new StringBuilder();
        t.append("\n== vault-broker bench: ").append(scenario.label()).append(" ==\n");
        result.forEach((k, v) -> {
            if (k.equals("options") || k.equals("limited_by") || k.equals("failures")) {
                return;
            }
            t.append(String.format("  %-42s %s%n", k, v));
        });
        t.append("  machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, JDK ")
                .append(Runtime.version()).append('\n');
        for (String l : limits) {
            t.append("  LIMIT   ").append(l).append('\n');
        }
        for (String f : failures) {
            t.append("  FAILED  ").append(f).append('\n');
        }
        t.append(failures.isEmpty() ? "  result: OK\n" : "  result: FAILED\n");
        System.out.print(t);
        String json = Json.write(result);
        System.out.println(json);
        Path out = Path.of(o.s("out"));
        Files.createDirectories(out);
        Files.writeString(out.resolve(scenario.label() + ".jsonl"), json + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private void jcmd(BrokerProcess broker, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString());
        cmd.add(Long.toString(broker.pid()));
        cmd.addAll(List.of(args));
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start().waitFor(60, TimeUnit.SECONDS);
    }

    private static String pubkey() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base58.encode(b);
    }

    private static long median(List<Long> xs) {
        List<Long> s = xs.stream().sorted().toList();
        return s.isEmpty() ? -1 : s.get(s.size() / 2);
    }

    private static double ms(long micros) {
        return round2(micros / 1000.0);
    }

    private static double round1(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
