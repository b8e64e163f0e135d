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
    final Map<String, Object> result = new LinkedHashMap<>();
    final List<String> limits = new ArrayList<>();
    final List<String> failures = new ArrayList<>();
    /** Lines printed before the key/value listing (the hostile scenario's phase table). */
    final List<String> table = new ArrayList<>();

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
        sb.append("\nOptions of faults and hostile (defaults above):\n");
        Scenario.SCENARIO_OPTIONS.forEach((k, v) -> sb.append(String.format("  --%-30s %s%n", k, v)));
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
        } else if (scenario == Scenario.HOSTILE) {
            new Hostile(this, o, url).run();
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
        String[] owners = new String[users];
        for (int u = 0; u < users; u++) {
            owners[u] = pubkey();
        }
        HeldInsert held = null;
        if (scenario == Scenario.FAULTS) {
            held = prepareFaults(url, secret, users > 0 ? owners[0] : null);
        }

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
            List<BenchSession> sessions = new ArrayList<>();
            String hb = o.s("heartbeat");
            for (int u = 0; u < users; u++) {
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
                connect(broker, List.of(http), sessions);
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
                    produce(broker, url, owners, sessions, ledger, rate, tvlRate, duration, held);
                }
                checkSessions(sessions);
            } finally {
                if (held != null) {
                    held.close();
                }
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
        return startBroker(url, label, secret, true, 0, List.of(), null);
    }

    /**
     * @param raiseLimits lift the per-address and total connection limits (every client of the
     *                    other scenarios comes from 127.0.0.1); hostile keeps the broker's own
     * @param nofile      the broker's open-files limit, or 0 to inherit
     */
    BrokerProcess startBroker(String url, String label, byte[] secret, boolean raiseLimits, int nofile,
                              List<String> extraJavaOpts, Path gcLog) throws IOException {
        Map<String, String> env = new HashMap<>();
        env.put("AUTH_JWT_SECRET", new String(secret, StandardCharsets.US_ASCII));
        env.put("DB_CONNECTION_URL", url);
        env.put("DB_CONNECTION_USERNAME", o.s("pg-user"));
        env.put("DB_CONNECTION_PASSWORD", o.s("pg-password"));
        if (raiseLimits) {
            env.put("LIMITS_CONNECTIONS_PER_ADDRESS", "1000000");
            env.put("LIMITS_CONNECTIONS_TOTAL", "1000000");
        }
        for (String kv : o.s("broker-env").split(",")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                env.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            }
        }
        List<String> opts = new ArrayList<>(Arrays.asList(o.s("broker-java-opts").trim().split("\\s+")));
        opts.removeIf(String::isEmpty);
        opts.addAll(extraJavaOpts);
        Path out = Path.of(o.s("out"));
        String stamp = Instant.now().toString().replace(":", "").replace(".", "");
        return BrokerProcess.start(Path.of(o.s("broker-jar")), opts, env, out.resolve("broker-" + label + "-" + stamp + ".log"),
                nofile, gcLog);
    }

    /** Connects the sessions, session i through {@code clients.get(i % n)} (one per local address in hostile). */
    void connect(BrokerProcess broker, List<HttpClient> clients, List<BenchSession> sessions) throws InterruptedException {
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
            clients.get(s.index % clients.size()).newWebSocketBuilder().subprotocols("v12.stomp").connectTimeout(Duration.ofSeconds(30))
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
                         double rate, double tvlRate, int duration, HeldInsert held) throws Exception {
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
        FeedChaos chaos = null;
        if (scenario == Scenario.FAULTS) {
            chaos = new FeedChaos(url, o.s("pg-user"), o.s("pg-password"), o.s("fault-kinds"),
                    o.i("fault-interval-ms"), o.i("fault-hunt-ms"), seed());
            chaos.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        if (chaos != null) {
            chaos.stop();
        }
        ProcStats.Usage u = ProcStats.Cpu.take(broker.pid()).since(c0);
        long producedNanos = System.nanoTime() - start;
        if (held != null) {
            held.commit(ledger);
        }

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
        Ledger.Check rowCheck = checkRows(sessions, ledger, 0, ledger.maxCommittedId(), "");
        if (chaos != null) {
            faultsReport(broker, chaos, held, ledger, sessions, rowCheck);
        }

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
        if (chaos != null) {
            table.add(String.format("  %-15s %-22s %-10s %-26s %-10s %-9s %-9s %s", "rows committed", "rows lost (deliveries)",
                    "duplicates", "kills: random / inside", "worst ms", "p50 ms", "p99 ms", "held row"));
            table.add(String.format("  %-15s %-22s %-10s %-26s %-10s %-9s %-9s %s", committed,
                    result.get("rows_incomplete") + " (" + result.get("row_deliveries_missing") + ")",
                    result.get("row_duplicates"),
                    chaos.kills.stream().filter(k -> k.how().startsWith("random")).count() + " / " + chaos.killsByKind,
                    result.get("latency_ms_max"), result.get("latency_ms_p50"), result.get("latency_ms_p99"),
                    held == null ? "-" : result.get("held_row_deliveries") + " of " + result.get("held_row_recipients")
                            + " sessions"));
            table.add("  not caught inside: " + chaos.kindsMissed + chaos.kindsNotReached
                    + "; feed statements seen: see faults_feed_statements_seen");
        }
        if (u.machineBusyPct() > 90) {
            limits.add("machine: " + round1(u.machineBusyPct()) + "% of all cores busy (broker "
                    + round2(u.brokerCores()) + ", generator " + round2(u.generatorCores()) + ", postgres "
                    + round2(u.postgresCores()) + " cores)");
        }
    }

    /**
     * The per-row check: every committed row with {@code afterId < id <= upToId} reached each session
     * subscribed to its destination that was connected, exactly once. Puts the figures in the result
     * under {@code prefix} and adds a failure for any row incomplete or duplicated.
     */
    Ledger.Check checkRows(List<BenchSession> sessions, Ledger ledger, long afterId, long upToId, String prefix) {
        Map<Integer, Integer> perUser = new HashMap<>();
        int admins = 0;
        for (BenchSession s : sessions) {
            if (s.ready.isDone() && !s.ready.isCompletedExceptionally()) {
                if (s.user < 0) {
                    admins++;
                } else {
                    perUser.merge(s.user, 1, Integer::sum);
                }
            }
        }
        int tvlRecipients = admins;
        Ledger.Check c = ledger.check(afterId, upToId,
                d -> d == Ledger.DEST_TVL ? tvlRecipients : perUser.getOrDefault(d / 2, 0));
        result.put(prefix + "rows_checked", c.rows());
        result.put(prefix + "rows_incomplete", c.rowsIncomplete());
        result.put(prefix + "rows_never_delivered", c.rowsNeverDelivered());
        result.put(prefix + "row_deliveries_missing", c.messagesLost());
        result.put(prefix + "row_duplicates", c.duplicates());
        if (c.rowsIncomplete() > 0) {
            failures.add(prefix + c.rowsIncomplete() + " committed rows did not reach every subscribed session ("
                    + c.rowsNeverDelivered() + " reached none; first id " + c.firstIncompleteId() + ")");
        }
        if (c.duplicates() > 0) {
            failures.add(prefix + c.duplicates() + " duplicate deliveries of committed rows");
        }
        return c;
    }

    private long seed() {
        long seed = Long.parseLong(o.s("seed"));
        if (seed == 0) {
            seed = RANDOM.nextLong();
        }
        result.put("seed", seed);
        return seed;
    }

    // ---------------------------------------------------------------- faults

    /**
     * An insert held open across the broker's start: the row (for the first user's balance) is
     * drawn before start and committed after the load, so the feed watches its id all run long.
     * Confined to the main thread.
     */
    private static final class HeldInsert implements AutoCloseable {
        final Connection c;
        final long id;
        final int user;
        long committedNanos;

        HeldInsert(Connection c, long id, int user) {
            this.c = c;
            this.id = id;
            this.user = user;
        }

        void commit(Ledger ledger) throws SQLException {
            c.commit();
            committedNanos = System.nanoTime();
            ledger.transactionCommitted(committedNanos);
            ledger.committed(id, committedNanos, Ledger.dest(user, true));
            ledger.committedBalance.incrementAndGet(user);
            ledger.rowsCommitted.add(1);
        }

        @Override
        public void close() throws SQLException {
            if (!c.isClosed()) {
                c.rollback();
                c.close();
            }
        }
    }

    // The schema comes from the broker's own migration: start it once, stop it, then hold an
    // insert open (id k) and commit one more row (k + 1) so the held id lies below the head the
    // feed starts from. Also installs the chaos functions.
    private HeldInsert prepareFaults(String url, byte[] secret, String owner) throws Exception {
        try (BrokerProcess b = startBroker(url, "faults-migrate", secret)) {
            b.awaitHealthy(Duration.ofSeconds(60));
        }
        try (Connection c = DriverManager.getConnection(url, o.s("pg-user"), o.s("pg-password"))) {
            FeedChaos.install(c);
        }
        if (owner == null || !o.b("held-insert")) {
            return null;
        }
        Connection h = DriverManager.getConnection(url, o.s("pg-user"), o.s("pg-password"));
        h.setAutoCommit(false);
        long id;
        try (var ps = h.prepareStatement("INSERT INTO vault_events (event_type, owner, payload) VALUES"
                + " ('balance_update', ?, ?::jsonb) RETURNING id")) {
            ps.setString(1, owner);
            ps.setString(2, "{\"owner\":\"" + owner + "\",\"asset\":\"USDC\",\"balance\":\"1.000000\","
                    + "\"available\":\"1.000000\",\"locked\":\"0.000000\",\"held\":true}");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                id = rs.getLong(1);
            }
        }
        try (Connection c = DriverManager.getConnection(url, o.s("pg-user"), o.s("pg-password"));
             var ps = c.prepareStatement("INSERT INTO vault_events (event_type, owner, payload) VALUES"
                     + " ('balance_update', ?, '{\"filler\":true}'::jsonb)")) {
            ps.setString(1, pubkey());
            ps.executeUpdate();
        }
        result.put("held_row_id", id);
        return new HeldInsert(h, id, 0);
    }

    private void faultsReport(BrokerProcess broker, FeedChaos chaos, HeldInsert held, Ledger ledger,
                              List<BenchSession> sessions, Ledger.Check rowCheck) {
        Map<String, Integer> byHow = new LinkedHashMap<>();
        for (FeedChaos.Kill k : chaos.kills) {
            byHow.merge(k.how(), 1, Integer::sum);
        }
        result.put("faults_kills_total", chaos.kills.size());
        result.put("faults_kills", byHow);
        result.put("faults_kinds_killed_inside", chaos.killsByKind);
        result.put("faults_kinds_not_caught", chaos.kindsMissed);
        result.put("faults_kinds_not_reached", chaos.kindsNotReached);
        result.put("faults_hunts_missed", chaos.huntsMissed);
        result.put("faults_other_statements_not_caught", chaos.othersMissed);
        List<String> seen = new ArrayList<>();
        for (String q : chaos.seen) {
            seen.add(FeedChaos.shorten(q, 220));
        }
        result.put("faults_feed_statements_seen", seen);
        // A row lost to a kill was committed before it (read in the cycle the kill broke): charge
        // each incomplete row to the first kill after its commit.
        long[] lostAfter = new long[chaos.kills.size() + 1];
        for (long c : rowCheck.incompleteCommitNanos()) {
            int i = 0;
            while (i < chaos.kills.size() && chaos.kills.get(i).nanos() < c) {
                i++;
            }
            lostAfter[i]++;
        }
        List<String> log = new ArrayList<>();
        for (int i = 0; i < chaos.kills.size(); i++) {
            FeedChaos.Kill k = chaos.kills.get(i);
            log.add(k.atMs() + " ms " + k.how() + ": " + FeedChaos.shorten(k.query(), 60)
                    + (lostAfter[i] > 0 ? " -> " + lostAfter[i] + " rows committed before it incomplete" : ""));
        }
        if (lostAfter[chaos.kills.size()] > 0) {
            log.add("(no kill) " + lostAfter[chaos.kills.size()] + " incomplete rows committed after the last kill");
        }
        result.put("faults_kill_log", log);
        result.put("faults_feed_lost_database_logged", broker.logCount("feed lost the database"));
        result.put("faults_broker_errors_logged", broker.logCount(" ERROR") + broker.logCount("SEVERE"));
        if (chaos.error != null) {
            failures.add("chaos thread failed: " + chaos.error);
        }
        // A kind never hit means the run did not test what it claims: the feed's statements
        // changed (see faults_feed_statements_seen and set --fault-kinds) or the run was too short.
        if (!chaos.kindsMissed.isEmpty()) {
            failures.add("chaos: never caught the feed inside " + chaos.kindsMissed + " within "
                    + o.s("fault-hunt-ms") + " ms each (set --fault-kinds from faults_feed_statements_seen)");
        }
        if (!chaos.kindsNotReached.isEmpty()) {
            failures.add("chaos: the run ended before a kill inside " + chaos.kindsNotReached
                    + " (longer --duration or shorter --fault-interval-ms)");
        }
        if (chaos.kills.isEmpty()) {
            failures.add("chaos: no backend with application_name '" + FeedChaos.APP + "' was ever terminated");
        }
        if (!chaos.othersMissed.isEmpty()) {
            limits.add("chaos: not caught inside (seen once, hunted by exact text): " + chaos.othersMissed);
        }
        if (held != null) {
            long expected = sessions.stream().filter(s -> s.user == held.user && s.ready.isDone()
                    && !s.ready.isCompletedExceptionally()).count();
            int got = ledger.deliveries(held.id);
            result.put("held_row_recipients", expected);
            result.put("held_row_deliveries", got);
            result.put("late_frames_received", sessions.stream().mapToLong(s -> s.late).sum());
            if (got < expected) {
                failures.add("the row held open across the start (id " + held.id + ") reached " + got + " of "
                        + expected + " sessions after its commit");
            }
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
        for (String line : table) {
            t.append(line).append('\n');
        }
        result.forEach((k, v) -> {
            if (k.equals("options") || k.equals("limited_by") || k.equals("failures") || k.equals("phases")) {
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

    static String pubkey() {
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
