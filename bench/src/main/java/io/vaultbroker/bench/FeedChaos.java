package io.vaultbroker.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The {@code faults} scenario's chaos: terminates the feed's backend (the broker's connection with
 * {@code application_name = 'vault-broker-feed'}) every few seconds at a random moment, and once
 * inside each kind of the feed's statements, found by its text while its state is {@code active}.
 *
 * <p>The feed's statements take well under a millisecond, too short to catch by polling from a
 * client; the hunt therefore runs inside PostgreSQL (a PL/pgSQL loop over
 * {@code pg_stat_activity}, refreshing its snapshot each turn), which kills within microseconds of
 * seeing the statement. It spins one backend while it hunts, bounded by {@code huntMillis}.
 *
 * <p>Threading: runs on its own thread ({@link #run}); the main thread reads the results after
 * {@link #stop()} has joined it.
 */
final class FeedChaos implements Runnable {
    static final String APP = "vault-broker-feed";

    // Returns 'state|query' of every distinct statement the feed's backend was seen running.
    private static final String SURVEY = """
            CREATE OR REPLACE FUNCTION bench_chaos.survey(app text, millis int) RETURNS SETOF text
            LANGUAGE plpgsql AS $$
            DECLARE
              deadline timestamptz := clock_timestamp() + millis * interval '1 millisecond';
              seen text[] := '{}';
              r record;
            BEGIN
              WHILE clock_timestamp() < deadline LOOP
                PERFORM pg_stat_clear_snapshot();
                FOR r IN SELECT state, query FROM pg_stat_activity
                         WHERE application_name = app AND datname = current_database() LOOP
                  IF NOT (r.state || '|' || r.query) = ANY (seen) THEN
                    seen := seen || (r.state || '|' || r.query);
                  END IF;
                END LOOP;
              END LOOP;
              RETURN QUERY SELECT unnest(seen);
            END $$""";
    // Waits for the feed's backend to be active in a statement containing pat (or equal to it,
    // when exact), then terminates it; returns that statement, or null at the deadline.
    private static final String HUNT = """
            CREATE OR REPLACE FUNCTION bench_chaos.hunt(app text, pat text, exact boolean, millis int) RETURNS text
            LANGUAGE plpgsql AS $$
            DECLARE
              deadline timestamptz := clock_timestamp() + millis * interval '1 millisecond';
              r record;
            BEGIN
              WHILE clock_timestamp() < deadline LOOP
                PERFORM pg_stat_clear_snapshot();
                SELECT pid, query INTO r FROM pg_stat_activity
                 WHERE application_name = app AND datname = current_database() AND state = 'active'
                   AND (CASE WHEN exact THEN query = pat ELSE strpos(query, pat) > 0 END)
                 LIMIT 1;
                IF FOUND AND pg_terminate_backend(r.pid) THEN
                  RETURN r.query;
                END IF;
              END LOOP;
              RETURN NULL;
            END $$""";

    /** A kind of the feed's statements to kill once: a name and a text the statement contains. */
    record Kind(String name, String pattern, boolean exact, int attempt) {
    }

    // A named kind missed by one hunt (on a starved machine the hunting backend may not get the
    // CPU while the statement runs) is hunted again later, up to this many times in all.
    private static final int ATTEMPTS = 3;

    /** One termination: when (ms since start), how it was chosen, and what the feed was doing. */
    record Kill(long atMs, long nanos, String how, String state, String query) {
    }

    private final String url;
    private final String user;
    private final String password;
    private final List<Kind> kinds;
    private final long intervalMs;
    private final int huntMillis;
    private final int surveyMillis;
    private final Random random;
    private volatile boolean running = true;
    private Thread thread;
    private final long t0 = System.nanoTime();

    // Results, read after stop().
    final List<Kill> kills = new ArrayList<>();
    final Map<String, Integer> killsByKind = new LinkedHashMap<>();
    /** Named kinds (--fault-kinds) never caught within the hunt's time. */
    final List<String> kindsMissed = new ArrayList<>();
    /** Other statements seen once, hunted by exact text, not caught (reconnect-only statements often are not). */
    final List<String> othersMissed = new ArrayList<>();
    /** Named kinds not hunted at all because the run ended first. */
    final List<String> kindsNotReached = new ArrayList<>();
    final Set<String> seen = new LinkedHashSet<>();
    volatile String error;
    /** Hunts that ended without catching their statement (each named kind is tried up to 3 times). */
    int huntsMissed;

    /**
     * @param kinds       "name=text;name=text": the statement kinds to kill inside once each; any
     *                    other statement the survey sees active is hunted once too, by its exact text
     * @param intervalMs  mean pause between two kills (uniform in 0.5x..1.5x)
     * @param huntMillis  how long one hunt may wait for its statement
     */
    FeedChaos(String url, String user, String password, String kinds, long intervalMs, int huntMillis, long seed) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.kinds = parse(kinds);
        this.intervalMs = intervalMs;
        this.huntMillis = huntMillis;
        this.surveyMillis = 1500;
        this.random = new Random(seed);
    }

    static List<Kind> parse(String spec) {
        List<Kind> out = new ArrayList<>();
        for (String part : spec.split(";")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                out.add(new Kind(part.substring(0, eq).trim(), part.substring(eq + 1), false, 1));
            }
        }
        return out;
    }

    /** Creates the hunting functions in the bench database (before the run, once). */
    static void install(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS bench_chaos");
            s.execute(SURVEY);
            s.execute(HUNT);
        }
    }

    void start() {
        thread = Thread.ofPlatform().name("feed-chaos").daemon(true).start(this);
    }

    void stop() throws InterruptedException {
        running = false;
        if (thread != null) {
            thread.join(TimeUnit.SECONDS.toMillis(huntMillis / 1000 + 10));
        }
    }

    @Override
    public void run() {
        try (Connection c = DriverManager.getConnection(url, user, password)) {
            c.setAutoCommit(true);
            survey(c);
            List<Kind> todo = new ArrayList<>(kinds);
            boolean othersAdded = false;
            boolean randomNext = true;
            while (running) {
                // A statement seen only at a reconnect is hunted right after the kill that causes one.
                if (randomNext || todo.isEmpty() || !todo.getFirst().exact()) {
                    pause();
                }
                if (!running) {
                    break;
                }
                if (randomNext || todo.isEmpty()) {
                    randomKill(c);
                } else {
                    Kind k = todo.removeFirst();
                    if (!hunt(c, k)) {
                        if (k.attempt() < ATTEMPTS) {
                            todo.addLast(new Kind(k.name(), k.pattern(), k.exact(), k.attempt() + 1));
                        } else {
                            (k.exact() ? othersMissed : kindsMissed).add(k.name());
                        }
                    }
                    if (todo.isEmpty() && !othersAdded) {
                        // The named kinds are done: look again, then hunt whatever else the feed
                        // was seen running (reconnects run statements the first survey missed).
                        survey(c);
                        todo.addAll(others());
                        othersAdded = true;
                    }
                }
                randomNext = !randomNext;
            }
            for (Kind k : todo) {
                if (!k.exact()) {
                    (k.attempt() > 1 ? kindsMissed : kindsNotReached).add(k.name());
                }
            }
        } catch (SQLException | RuntimeException e) {
            error = e.toString();
        }
    }

    private List<Kind> others() {
        List<Kind> out = new ArrayList<>();
        for (String s : seen) {
            int bar = s.indexOf('|');
            String state = s.substring(0, bar);
            String q = s.substring(bar + 1);
            if (!state.equals("active") || kinds.stream().anyMatch(k -> q.contains(k.pattern()))
                    || out.stream().anyMatch(k -> k.pattern().equals(q))) {
                continue;
            }
            out.add(new Kind("other:" + shorten(q, 40), q, true, ATTEMPTS));
        }
        return out;
    }

    private void pause() {
        long ms = (long) (intervalMs * (0.5 + random.nextDouble()));
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (running && System.nanoTime() < deadline) {
            try {
                Thread.sleep(Math.min(50, ms));
            } catch (InterruptedException e) {
                running = false;
            }
        }
    }

    private void survey(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT * FROM bench_chaos.survey(?, ?)")) {
            ps.setString(1, APP);
            ps.setInt(2, surveyMillis);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    seen.add(rs.getString(1));
                }
            }
        }
    }

    private void randomKill(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT state, query, pg_terminate_backend(pid) FROM pg_stat_activity"
                        + " WHERE application_name = '" + APP + "' AND datname = current_database()")) {
            while (rs.next()) {
                if (rs.getBoolean(3)) {
                    String state = rs.getString(1);
                    String q = rs.getString(2);
                    seen.add(state + "|" + q);
                    String kind = "active".equals(state) ? kindOf(q) : state;
                    record("random (" + kind + ")", state, q);
                }
            }
        }
    }

    /** True when the feed was killed inside {@code k}. */
    private boolean hunt(Connection c, Kind k) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT bench_chaos.hunt(?, ?, ?, ?)")) {
            ps.setString(1, APP);
            ps.setString(2, k.pattern());
            ps.setBoolean(3, k.exact());
            ps.setInt(4, huntMillis);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String q = rs.getString(1);
                if (q == null) {
                    huntsMissed++;
                    return false;
                }
                seen.add("active|" + q);
                killsByKind.merge(k.name(), 1, Integer::sum);
                record("inside " + k.name(), "active", q);
                return true;
            }
        }
    }

    private String kindOf(String q) {
        for (Kind k : kinds) {
            if (q.contains(k.pattern())) {
                return k.name();
            }
        }
        return "other";
    }

    private void record(String how, String state, String query) {
        long now = System.nanoTime();
        kills.add(new Kill(TimeUnit.NANOSECONDS.toMillis(now - t0), now, how, state, shorten(query, 160)));
    }

    static String shorten(String s, int max) {
        String one = s == null ? "" : s.replaceAll("\\s+", " ").trim();
        return one.length() <= max ? one : one.substring(0, max) + "…";
    }
}
