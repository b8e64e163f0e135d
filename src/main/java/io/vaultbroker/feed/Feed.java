package io.vaultbroker.feed;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.postgresql.PGConnection;

/**
 * Reads committed rows of {@code vault_events} in id order and hands them to a {@link FeedSink},
 * never skipping a row that a slower transaction will still commit. The decisions are the
 * {@link GapRule}'s; this class is the I/O loop around it: it reads, lets the rule decide, hands
 * the rows on, and only then takes the rule's new state, so a failure at any step (a killed
 * connection, a throwing sink, an {@link Error}) re-reads what was not handed on.
 *
 * <p>A busy feed polls; an idle one sleeps on {@code LISTEN} and is woken by producers' NOTIFY,
 * which they send only while some feed sleeps ({@link Sleeper}). With {@code wake: poll} it never
 * sleeps, for producers that use two-phase commit.
 *
 * <p>A watchdog thread reports the feed degraded when its loop has not moved for the lag
 * threshold, whatever the cause, and starts a new loop thread if the old one died.
 *
 * <p>Threading: the reading state is confined to the loop thread ({@code state} is replaced, never
 * mutated, and read elsewhere only for metrics); status changes are serialised by {@code statusLock};
 * {@link #start()}, {@link #stop()}, {@link #awaitStarted(Duration)} and {@link #stats()} may be
 * called from any thread.
 */
public final class Feed {
    private static final System.Logger LOG = System.getLogger(Feed.class.getName());
    private static final String CHANNEL = "vault_events";
    private static final long WAIT_SLICE_MS = 250;
    private static final long MAX_GAP_BACKOFF_MS = 50;
    private static final long YOUNG_GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long WATCH_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final long STAY_AWAKE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
    private static final long MAX_AWAKE_WAIT_MS = 32;
    private static final long MAX_DROWSY_WAIT_MS = 100;
    private static final long RESET_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long SAVE_SETTLED_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int MAX_WATCHES = 100_000;

    /** How an idle feed learns of new rows. */
    public enum Wake {
        /** Sleep on LISTEN; producers notify while a feed sleeps. */
        LISTEN,
        /** Never sleep: poll, at most {@code poll-interval} apart (two-phase-commit producers). */
        POLL
    }

    /**
     * How the feed reaches the database and paces itself.
     *
     * @param url          JDBC URL of the primary (LISTEN needs a direct connection, not a pooler)
     * @param user         database user
     * @param password     database password
     * @param pollInterval fallback poll when no notification arrives; with {@link Wake#POLL} the idle poll
     * @param batchSize    rows per read
     * @param maxGapWait   longest any committed row waits behind missing ids, in total
     * @param lagThreshold lag (or loop stall) above which the feed reports itself degraded
     * @param wake         how an idle feed is woken
     */
    public record Settings(String url, String user, String password, Duration pollInterval, int batchSize,
                           Duration maxGapWait, Duration lagThreshold, Wake wake) {
    }

    private final Settings settings;
    private final FeedSink sink;
    private final FeedStats stats = new FeedStats();
    private final CountDownLatch started = new CountDownLatch(1);
    private final GapRule rule;
    private final Object statusLock = new Object();
    private volatile boolean running;
    private volatile Thread thread;
    private Thread watchdog;
    // Moved by the loop thread at every completed cycle and every wait slice; read by the watchdog.
    private volatile long heartbeatNanos = System.nanoTime();

    // Loop-thread state: the committed rule state and its bookkeeping.
    private volatile GapState state;
    private FeedPosition lastPosition;
    private long lastResetCheck;
    private long lastSettledSave;
    private long savedSettled = -1;
    private long resetUntil;
    private boolean resetCheckAllowed = true;

    // Guarded by statusLock.
    private FeedStatus status = FeedStatus.STARTING;
    private boolean stalled;

    public Feed(Settings settings, FeedSink sink) {
        this.settings = settings;
        this.sink = sink;
        this.rule = new GapRule(settings.maxGapWait().toNanos(), YOUNG_GAP_NANOS, WATCH_EVERY_NANOS,
                10 * settings.batchSize(), MAX_WATCHES);
    }

    /** Starts the feed and its watchdog. */
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        heartbeatNanos = System.nanoTime();
        thread = newLoop();
        watchdog = Thread.ofPlatform().name("vault-broker-feed-watchdog").daemon(true).start(this::watch);
    }

    /** Stops the feed thread and waits for it briefly. */
    public void stop() {
        running = false;
        Thread w = watchdog;
        if (w != null) {
            w.interrupt();
        }
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until the feed has taken its starting position (or the deadline passes). */
    public boolean awaitStarted(Duration timeout) throws InterruptedException {
        return started.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Live counters. */
    public FeedStats stats() {
        return stats;
    }

    private Thread newLoop() {
        return Thread.ofPlatform().name("vault-broker-feed").daemon(true).start(this::run);
    }

    private void run() {
        long backoffMs = 100;
        while (running) {
            try (Connection c = connect()) {
                FeedQueries reader = new FeedQueries(c, stats, checkedTable(c));
                if (state == null) {
                    state = initialise(reader);
                }
                backoffMs = 100;
                loop(c, reader);
            } catch (Throwable e) {
                if (!running) {
                    break;
                }
                failed(e, backoffMs);
                sleep(backoffMs + ThreadLocalRandom.current().nextLong(backoffMs / 2 + 1));
                backoffMs = Math.min(backoffMs * 2, 5000);
            }
        }
    }

    // Nothing stops the feed: a lost database and a bug alike cost a reconnect after a backoff,
    // and the rows not yet handed on are read again.
    private void failed(Throwable e, long backoffMs) {
        stats.reconnects.incrementAndGet();
        if (e instanceof SQLException) {
            LOG.log(System.Logger.Level.WARNING, "feed lost the database (" + e.getMessage() + "); retrying in "
                    + backoffMs + " ms; nothing is lost, rows not yet handed on are read again");
            report(FeedStatus.degraded("database unreachable", currentLagMs()));
        } else {
            stats.failures.incrementAndGet();
            if (e instanceof OutOfMemoryError oom) {
                OutOfMemory.record(oom);
            }
            LOG.log(System.Logger.Level.ERROR, "feed cycle failed; restarting it in " + backoffMs + " ms", e);
            report(FeedStatus.degraded("feed failed", currentLagMs()));
        }
    }

    private Connection connect() throws SQLException {
        Connection c = DriverManager.getConnection(settings.url(), properties("vault-broker-feed"));
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
            s.execute("LISTEN " + CHANNEL);
        }
        return c;
    }

    private Properties properties(String applicationName) {
        Properties p = new Properties();
        p.setProperty("user", settings.user());
        if (settings.password() != null) {
            p.setProperty("password", settings.password());
        }
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "30");
        return p;
    }

    private SchemaCheck.Table checkedTable(Connection c) throws SQLException {
        try {
            return SchemaCheck.inspect(c);
        } catch (SchemaCheck.Unsound e) {
            // Checked at start too (the broker refuses to start); here it changed while running.
            report(FeedStatus.degraded("vault_events unsound", currentLagMs()));
            throw new SQLException(e.getMessage(), e);
        }
    }

    // Takes the starting position: the current head, and every id below it that is not settled yet
    // (however far back: transactions that drew their ids before we started may still commit them).
    private GapState initialise(FeedQueries reader) throws SQLException {
        long head = reader.head();
        long settled = reader.settledThrough();
        if (settled > head) {
            // The identity was reset since a feed last ran.
            settled = 0;
        }
        List<IdRange> missing = reader.missing(settled, head);
        LOG.log(System.Logger.Level.INFO, "feed starts after id " + head + " (" + missing.size()
                + " missing id ranges between " + settled + " and it are watched until their transactions end)");
        savedSettled = settled;
        return rule.start(head, missing, System.nanoTime());
    }

    // Awake, the feed polls on a short, growing interval, so busy producers commit without NOTIFY
    // (which serialises their commits). After STAY_AWAKE without rows it asks its sleeper for the
    // lock; once that is held it reads once more and waits on LISTEN.
    private void loop(Connection c, FeedQueries reader) throws Exception {
        PGConnection pg = c.unwrap(PGConnection.class);
        Sleeper sleeper = settings.wake() == Wake.LISTEN ? openSleeper() : null;
        try {
            long lastActive = System.nanoTime();
            long idleWaitMs = 0;
            long gapWaitMs = 0;
            boolean readSinceGrant = false;
            while (running) {
                long readBefore = state.readTo();
                GapRule.Step step = cycle(reader);
                started.countDown();
                long now = System.nanoTime();
                heartbeatNanos = now;
                boolean progress = !step.rows().isEmpty();
                if (progress || state.readTo() != readBefore) {
                    lastActive = now;
                    idleWaitMs = 0;
                    readSinceGrant = false;
                    if (sleeper != null) {
                        sleeper.want(false);
                    }
                }
                if (step.again()) {
                    // Drop the wake-ups this cycle has already served.
                    pg.getNotifications();
                    continue;
                }
                if (!state.gaps().isEmpty()) {
                    // Rows still flowing past gaps: look again at once. Stuck at a gap: back off.
                    gapWaitMs = progress || gapWaitMs == 0 ? 1 : Math.min(gapWaitMs * 2, MAX_GAP_BACKOFF_MS);
                    waitForWork(pg, gapWaitMs);
                    continue;
                }
                gapWaitMs = 0;
                long watchMs = state.watches().isEmpty() ? Long.MAX_VALUE : TimeUnit.NANOSECONDS.toMillis(WATCH_EVERY_NANOS);
                if (sleeper != null && sleeper.broken()) {
                    sleeper.close();
                    sleeper = openSleeper();
                }
                if (now - lastActive < STAY_AWAKE_NANOS) {
                    idleWaitMs = grow(idleWaitMs, MAX_AWAKE_WAIT_MS);
                    waitForWork(pg, Math.min(idleWaitMs, watchMs));
                    continue;
                }
                if (sleeper == null) {
                    idleWaitMs = grow(idleWaitMs, settings.pollInterval().toMillis());
                    waitForWork(pg, Math.min(idleWaitMs, watchMs));
                    continue;
                }
                sleeper.want(true);
                if (!sleeper.asleep()) {
                    // Producers that took the lock shared before we asked may commit without a
                    // NOTIFY; new ones already notify. Poll until the lock is ours.
                    readSinceGrant = false;
                    idleWaitMs = grow(idleWaitMs, MAX_DROWSY_WAIT_MS);
                    waitForWork(pg, Math.min(idleWaitMs, watchMs));
                    continue;
                }
                if (!readSinceGrant) {
                    // What producers that did not notify committed before the lock was ours.
                    readSinceGrant = true;
                    continue;
                }
                waitForWork(pg, Math.min(settings.pollInterval().toMillis(), watchMs));
            }
        } finally {
            if (sleeper != null) {
                sleeper.close();
            }
        }
    }

    private Sleeper openSleeper() throws SQLException {
        Properties p = properties("vault-broker-feed-sleeper");
        // Asleep, its connection waits in a read between statements: no socket timeout there.
        p.remove("socketTimeout");
        return Sleeper.open(DriverManager.getConnection(settings.url(), p));
    }

    private static long grow(long ms, long max) {
        return ms == 0 ? 1 : Math.min(ms * 2, Math.max(1, max));
    }

    /** One read cycle: read, let the rule decide, hand the rows on, and only then take the new state. */
    GapRule.Step cycle(FeedQueries reader) throws SQLException {
        long t0 = System.nanoTime();
        GapState s = state;
        GapRule.Step step = rule.cycle(s, reader, settings.batchSize(), t0);
        stats.rowsRead.addAndGet(step.read());
        FeedPosition position = step.moved(s) || lastPosition == null ? step.next().position() : lastPosition;
        if (!step.rows().isEmpty() || position != lastPosition) {
            sink.deliver(step.rows(), position);
        }
        // The sink has the rows: from here on they are delivered.
        state = step.next();
        lastPosition = position;
        account(step, t0);
        if (state.readTo() == s.readTo()) {
            checkReset(reader, t0);
        }
        saveSettled(reader, t0);
        return step;
    }

    private void account(GapRule.Step step, long t0) {
        stats.polls.incrementAndGet();
        stats.rowsDelivered.addAndGet(step.rows().size());
        stats.lateRows.addAndGet(step.late());
        stats.gapsRolledBack.addAndGet(step.rolledBack());
        stats.cursor.set(state.cursor());
        stats.lagRows.set(step.lagRows());
        stats.watched.set(state.watches().size());
        if (!step.givenUp().isEmpty()) {
            stats.gapsOverdue.addAndGet(step.givenUp().size());
            LOG.log(System.Logger.Level.WARNING, "ids " + describe(step.givenUp()) + " held delivery longer than "
                    + settings.maxGapWait() + "; moving on, a late commit is still delivered (x-late)");
        }
        if (!step.abandoned().isEmpty()) {
            stats.abandoned.addAndGet(step.abandoned().size());
            LOG.log(System.Logger.Level.ERROR, "more than " + MAX_WATCHES + " id ranges watched; no longer watching "
                    + describe(step.abandoned()) + ": a row committed there now would not be delivered");
        }
        long now = System.nanoTime();
        stats.pollNanos.addAndGet(now - t0);
        long lag = GapRule.millis(step.lagNanos());
        if (step.again() && !step.rows().isEmpty()) {
            // Catching up: the newest row handed on is as old as the backlog behind it.
            Instant newest = step.rows().getLast().createdAt();
            lag = Math.max(lag, Instant.now().toEpochMilli() - newest.toEpochMilli());
        }
        stats.lagMs.set(lag);
        boolean overdue = state.watches().stream().anyMatch(Hold::overdue);
        if (now < resetUntil) {
            report(FeedStatus.degraded("identity reset", lag));
        } else if (overdue) {
            report(FeedStatus.degraded("rows held past max-gap-wait", lag));
        } else if (lag > settings.lagThreshold().toMillis()) {
            report(FeedStatus.degraded("feed lagging", lag));
        } else {
            report(FeedStatus.ok(lag));
        }
    }

    private static String describe(List<IdRange> ranges) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ranges.size() && i < 5; i++) {
            IdRange r = ranges.get(i);
            sb.append(i == 0 ? "" : ", ").append(r.from()).append(r.to() == r.from() ? "" : ".." + r.to());
        }
        return ranges.size() > 5 ? sb + " and " + (ranges.size() - 5) + " more ranges" : sb.toString();
    }

    // After TRUNCATE … RESTART IDENTITY the sequence starts again below the cursor: new rows would
    // never be read. Checked when a read past the cursor found nothing, at most once a second.
    private void checkReset(FeedQueries reader, long now) throws SQLException {
        if (!resetCheckAllowed || now - lastResetCheck < RESET_CHECK_NANOS) {
            return;
        }
        lastResetCheck = now;
        long last;
        try {
            last = reader.sequenceValue();
        } catch (SQLException e) {
            if (!"42501".equals(e.getSQLState())) {
                throw e;
            }
            resetCheckAllowed = false;
            LOG.log(System.Logger.Level.WARNING, "the feed's database user may not read the identity sequence of"
                    + " vault_events, so an identity reset (TRUNCATE … RESTART IDENTITY) would go unnoticed: " + e.getMessage());
            return;
        }
        GapState s = state;
        if (last >= s.readTo()) {
            return;
        }
        stats.resets.incrementAndGet();
        LOG.log(System.Logger.Level.ERROR, "the identity of vault_events went back from " + s.readTo() + " to " + last
                + " (TRUNCATE … RESTART IDENTITY?); delivering every row from the new start");
        resetUntil = now + Math.max(settings.lagThreshold().toNanos(), TimeUnit.SECONDS.toNanos(1));
        reader.saveSettledThrough(0, true);
        savedSettled = 0;
        state = rule.start(0, List.of(), now);
        lastPosition = null;
    }

    // Lets the next start skip what is settled for good instead of scanning the whole table.
    private void saveSettled(FeedQueries reader, long now) throws SQLException {
        long settled = state.settledThrough();
        if (settled > savedSettled && now - lastSettledSave > SAVE_SETTLED_NANOS) {
            lastSettledSave = now;
            reader.saveSettledThrough(settled, false);
            savedSettled = settled;
        }
    }

    // Waits for a notification in short slices so stop() is noticed without closing the socket
    // under a reader. No statement is sent while waiting.
    private void waitForWork(PGConnection pg, long waitMs) throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (running) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return;
            }
            var notes = pg.getNotifications((int) Math.min(left, WAIT_SLICE_MS));
            heartbeatNanos = System.nanoTime();
            if (notes != null && notes.length > 0) {
                return;
            }
        }
    }

    // The watchdog: health from what the loop does, not from what it last said.
    private void watch() {
        while (running) {
            try {
                Thread.sleep(Math.max(50, settings.lagThreshold().toMillis() / 10));
                check();
            } catch (InterruptedException e) {
                return;
            } catch (Throwable e) {
                if (e instanceof OutOfMemoryError oom) {
                    OutOfMemory.record(oom);
                }
                LOG.log(System.Logger.Level.ERROR, "feed watchdog check failed", e);
            }
        }
    }

    private void check() {
        long threshold = settings.lagThreshold().toNanos();
        long quiet = System.nanoTime() - heartbeatNanos;
        Thread t = thread;
        if (running && (t == null || !t.isAlive())) {
            stats.failures.incrementAndGet();
            LOG.log(System.Logger.Level.ERROR, "the feed thread died; starting a new one");
            heartbeatNanos = System.nanoTime();
            thread = newLoop();
        }
        synchronized (statusLock) {
            if (quiet > threshold && !stalled) {
                stalled = true;
                LOG.log(System.Logger.Level.WARNING, "feed loop has not moved for " + GapRule.millis(quiet) + " ms");
                publish(FeedStatus.degraded("feed stalled", GapRule.millis(quiet)));
            } else if (quiet <= threshold && stalled) {
                stalled = false;
                publish(status);
            }
        }
    }

    /** Whether health may call the feed ok: its last status, unless the watchdog found the loop stalled. */
    public FeedStatus status() {
        synchronized (statusLock) {
            return stalled ? FeedStatus.degraded("feed stalled", GapRule.millis(System.nanoTime() - heartbeatNanos)) : status;
        }
    }

    private long currentLagMs() {
        GapState s = state;
        return s == null || s.gaps().isEmpty() ? 0 : GapRule.millis(System.nanoTime() - s.gaps().getFirst().sinceNanos());
    }

    private void report(FeedStatus next) {
        synchronized (statusLock) {
            if (next.ok() == status.ok() && next.reason().equals(status.reason())) {
                return;
            }
            status = next;
            if (!next.ok()) {
                LOG.log(System.Logger.Level.WARNING, "feed degraded: " + next.reason());
            } else {
                LOG.log(System.Logger.Level.INFO, "feed ok");
            }
            if (!stalled) {
                publish(next);
            }
        }
    }

    // Under statusLock, so the sink sees status changes one at a time and in order.
    private void publish(FeedStatus s) {
        try {
            sink.status(s);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "status listener failed", e);
        }
    }

    private void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }
}
