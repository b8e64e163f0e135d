package io.vaultbroker.feed;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.postgresql.PGConnection;

/**
 * Reads committed rows of {@code vault_events} in id order and hands them to a {@link FeedSink},
 * never skipping a row that a slower transaction will still commit.
 *
 * <p>Ids are drawn at insert but become visible at commit, so the feed keeps a cursor below which
 * everything is settled, and holds delivery at the first missing id. Every inserter holds a
 * {@code RowExclusiveLock} on the table, taken before its id is drawn, until it ends: after a read
 * that misses an id, the lock holders seen next are a superset of whoever may still commit it.
 * Once none of them holds the lock any more, a further read decides: the row is there, or its
 * transaction rolled back and the id is skipped. A gap held longer than {@code maxGapWait} is
 * given up (counted, logged, health degraded) but still watched, so a row that commits later is
 * delivered, marked late.
 *
 * <p>A busy feed polls; an idle one waits on {@code LISTEN}. Since a transaction that calls
 * {@code NOTIFY} serialises its commit with every other notifying one, producers notify only while
 * some feed has marked itself asleep in {@code vault_broker_feeds} (migration V2); the feed keeps
 * polling after raising that flag until every inserter that may have missed it has ended.
 *
 * <p>Threading: all reading state is confined to the feed's own thread; {@link #start()},
 * {@link #stop()}, {@link #awaitStarted(Duration)} and {@link #stats()} may be called from any thread.
 */
public final class Feed {
    private static final System.Logger LOG = System.getLogger(Feed.class.getName());
    private static final String CHANNEL = "vault_events";
    private static final long WAIT_SLICE_MS = 250;
    private static final long MAX_GAP_BACKOFF_MS = 50;
    private static final long YOUNG_GAP_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long WATCH_POLL_MS = 1000;
    private static final long STAY_AWAKE_MS = 250;
    private static final long MAX_IDLE_WAIT_MS = 32;

    /**
     * How the feed reaches the database and paces itself.
     *
     * @param url             JDBC URL of the primary (LISTEN needs a direct connection, not a pooler)
     * @param user            database user
     * @param password        database password
     * @param pollInterval    fallback poll when no notification arrives
     * @param batchSize       rows per read
     * @param maxGapWait      longest delivery is held at one id gap
     * @param lagThreshold    lag above which the feed reports itself degraded
     * @param startScanWindow how many ids below the head are checked at start for rows still in flight
     */
    public record Settings(String url, String user, String password, Duration pollInterval, int batchSize,
                           Duration maxGapWait, Duration lagThreshold, int startScanWindow) {
    }

    private final Settings settings;
    private final FeedSink sink;
    private final FeedStats stats = new FeedStats();
    private final CountDownLatch started = new CountDownLatch(1);
    private final String instance = java.util.UUID.randomUUID().toString();
    private volatile boolean running;
    private volatile Thread thread;

    // Feed-thread state.
    private long cursor = -1;
    private Held gap;
    private final List<Held> watches = new ArrayList<>();
    private FeedPosition lastPosition;
    private FeedStatus status = FeedStatus.STARTING;
    private long gapBackoffMs;
    private boolean lastBatchFull;
    private int lastDelivered;

    /**
     * A range of missing ids and the transactions that may still fill it.
     * Confined to the feed thread.
     */
    private static final class Held {
        private IdRange range;
        private Set<String> candidates;
        // Set when a lock check found no candidate left; the next read then decides.
        private boolean confirm;
        private final long sinceNanos;
        private final boolean overdue;

        Held(IdRange range, Set<String> candidates, long sinceNanos, boolean overdue) {
            this.range = range;
            this.candidates = candidates;
            this.sinceNanos = sinceNanos;
            this.overdue = overdue;
        }

        void narrow(Set<String> holders) {
            if (candidates == null) {
                candidates = new HashSet<>(holders);
            } else {
                candidates.retainAll(holders);
            }
            confirm = candidates.isEmpty();
        }
    }

    public Feed(Settings settings, FeedSink sink) {
        this.settings = settings;
        this.sink = sink;
    }

    /** Starts the feed thread. */
    public synchronized void start() {
        if (thread != null) {
            return;
        }
        running = true;
        thread = Thread.ofPlatform().name("vault-broker-feed").daemon(true).start(this::run);
    }

    /** Stops the feed thread and waits for it briefly. */
    public void stop() {
        running = false;
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

    private void run() {
        long backoffMs = 100;
        while (running) {
            try (Connection c = connect()) {
                FeedQueries reader = new FeedQueries(c, stats);
                if (cursor < 0) {
                    initialise(reader);
                }
                backoffMs = 100;
                loop(c, reader);
                reader.unregister(instance);
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    break;
                }
                stats.reconnects.incrementAndGet();
                LOG.log(System.Logger.Level.WARNING, "feed lost the database (" + e.getMessage()
                        + "); retrying in " + backoffMs + " ms");
                report(FeedStatus.degraded("database unreachable", currentLagMs(System.nanoTime())));
                sleep(backoffMs + ThreadLocalRandom.current().nextLong(backoffMs / 2 + 1));
                backoffMs = Math.min(backoffMs * 2, 5000);
            }
        }
    }

    private Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", settings.user());
        if (settings.password() != null) {
            p.setProperty("password", settings.password());
        }
        p.setProperty("ApplicationName", "vault-broker-feed");
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "30");
        Connection c = DriverManager.getConnection(settings.url(), p);
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
            s.execute("LISTEN " + CHANNEL);
        }
        return c;
    }

    // Takes the starting position: the current head, and the missing ids just below it, which
    // transactions that drew their ids before we started may still commit.
    private void initialise(FeedQueries reader) throws SQLException {
        long head = reader.head();
        long low = Math.max(1, head - settings.startScanWindow() + 1);
        List<IdRange> missing = head > 0 ? reader.missing(low, head) : List.of();
        Set<String> holders = reader.holders();
        long now = System.nanoTime();
        for (IdRange r : missing) {
            Held w = new Held(r, null, now, false);
            w.narrow(holders);
            watches.add(w);
        }
        cursor = head;
        stats.cursor.set(cursor);
        LOG.log(System.Logger.Level.INFO, "feed starts after id " + head + " (" + missing.size()
                + " id ranges below it still watched)");
    }

    // Awake, the feed polls on a short, growing interval with its flag down, so busy producers
    // commit without NOTIFY (which serialises their commits). After STAY_AWAKE_MS without rows it
    // raises its flag and waits on LISTEN; from then on producers notify it.
    private void loop(Connection c, FeedQueries reader) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        reader.register(instance);
        boolean asleep = false;
        Drowsy drowsy = null;
        long lastActive = System.nanoTime();
        long idleWaitMs = 0;
        while (running) {
            long t0 = System.nanoTime();
            long readBefore = stats.rowsRead.get();
            boolean again = cycle(reader);
            // Started once the first cycle has reported a status, so nobody sees "feed starting".
            started.countDown();
            stats.polls.incrementAndGet();
            long now = System.nanoTime();
            stats.pollNanos.addAndGet(now - t0);
            if (again || stats.rowsRead.get() > readBefore) {
                lastActive = now;
                idleWaitMs = 0;
                drowsy = null;
                if (asleep) {
                    reader.flag(instance, false);
                    asleep = false;
                }
            }
            if (again) {
                // Drop the wake-ups this cycle has already served.
                pg.getNotifications();
                continue;
            }
            if (gap != null || !watches.isEmpty()) {
                waitForWork(pg, nextWaitMs());
                continue;
            }
            if (!asleep) {
                if (now - lastActive < TimeUnit.MILLISECONDS.toNanos(STAY_AWAKE_MS)) {
                    idleWaitMs = idleWaitMs == 0 ? 1 : Math.min(idleWaitMs * 2, MAX_IDLE_WAIT_MS);
                    waitForWork(pg, idleWaitMs);
                    continue;
                }
                reader.flag(instance, true);
                asleep = true;
                drowsy = new Drowsy(now);
                // Read once more: rows committed before the flag was up woke nobody.
                continue;
            }
            if (drowsy != null) {
                if (drowsy.awake(reader.holders(), now, settings.pollInterval())) {
                    waitForWork(pg, 2);
                    continue;
                }
                drowsy = null;
            }
            if (!waitForWork(pg, settings.pollInterval().toMillis())) {
                // Still asleep after the fallback poll: say so again, or producers stop notifying.
                reader.flag(instance, true);
            }
        }
    }

    /**
     * Just after the flag went up: inserters that checked it before it was visible will not
     * notify. Each of them holds the table's lock until it ends, so the feed keeps polling until
     * the lock holders seen after the flag have all ended, and reads once more.
     * Confined to the feed thread.
     */
    private static final class Drowsy {
        private final long sinceNanos;
        private Set<String> candidates;
        private boolean confirmed;

        Drowsy(long sinceNanos) {
            this.sinceNanos = sinceNanos;
        }

        /** True while the feed must keep polling before it may sleep. */
        boolean awake(Set<String> holders, long now, Duration limit) {
            if (now - sinceNanos > limit.toNanos()) {
                // A transaction left open this long is caught by the fallback poll.
                return false;
            }
            if (candidates == null) {
                candidates = new HashSet<>(holders);
            } else {
                candidates.retainAll(holders);
            }
            if (!candidates.isEmpty()) {
                return true;
            }
            // All gone: one more read picks up what they committed.
            boolean first = !confirmed;
            confirmed = true;
            return first;
        }
    }

    private long nextWaitMs() {
        if (gap != null) {
            // Rows still flowing past gaps: look again at once. Stuck at one gap: back off.
            gapBackoffMs = lastDelivered > 0 || gapBackoffMs == 0 ? 1 : Math.min(gapBackoffMs * 2, MAX_GAP_BACKOFF_MS);
            return gapBackoffMs;
        }
        gapBackoffMs = 0;
        long poll = settings.pollInterval().toMillis();
        return watches.isEmpty() ? poll : Math.min(poll, WATCH_POLL_MS);
    }

    // Waits for a notification in short slices so stop() is noticed without closing the socket
    // under a reader. No statement is sent while waiting. True when a notification came.
    private boolean waitForWork(PGConnection pg, long waitMs) throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        while (running) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return false;
            }
            var notes = pg.getNotifications((int) Math.min(left, WAIT_SLICE_MS));
            if (notes != null && notes.length > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * One read cycle.
     *
     * @return true when another cycle should follow at once
     */
    boolean cycle(FeedQueries reader) throws SQLException {
        long now = System.nanoTime();
        List<EventRow> out = new ArrayList<>();
        boolean again = false;

        List<EventRow> rows = reader.after(cursor, settings.batchSize());
        stats.rowsRead.addAndGet(rows.size());
        // A young gap is usually a transaction that is committing right now: read again before
        // asking who holds the lock (any check after the read that missed the id is sound).
        boolean needLocks = advance(rows, out, now)
                && (gap.candidates != null || now - gap.sinceNanos > YOUNG_GAP_NANOS);
        lastBatchFull = rows.size() == settings.batchSize();

        if (!watches.isEmpty()) {
            List<EventRow> late = reader.inRanges(watches.stream().map(w -> w.range).toList());
            stats.rowsRead.addAndGet(late.size());
            for (EventRow row : late) {
                out.add(new EventRow(row.id(), row.eventType(), row.owner(), row.payloadJson(), row.createdAt(), true));
                removeFromWatches(row.id());
                stats.lateRows.incrementAndGet();
            }
            // A watch whose candidates were all gone before this read, and which this read did not
            // find, belonged to transactions that rolled back.
            watches.removeIf(w -> w.confirm);
            needLocks |= !watches.isEmpty();
        }

        if (needLocks) {
            Set<String> holders = reader.holders();
            if (gap != null && (gap.candidates != null || now - gap.sinceNanos > YOUNG_GAP_NANOS)) {
                gap.narrow(holders);
                again |= gap.confirm;
            }
            for (Held w : watches) {
                w.narrow(holders);
                again |= w.confirm;
            }
        }

        FeedPosition position = new FeedPosition(cursor, watches.stream().map(w -> w.range).toList());
        if (!out.isEmpty() || !position.equals(lastPosition)) {
            try {
                sink.deliver(out, position);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "delivery failed for rows up to id " + cursor, e);
            }
            lastPosition = position;
            stats.rowsDelivered.addAndGet(out.size());
        }
        stats.cursor.set(cursor);
        lastDelivered = out.size();
        updateStatus(now, rows, out);
        return again || (lastBatchFull && gap == null);
    }

    // Delivers the contiguous prefix of the rows past the cursor and works out the gap that holds
    // the rest. Returns true when a lock check must follow.
    private boolean advance(List<EventRow> rows, List<EventRow> out, long now) {
        int i = 0;
        while (true) {
            while (i < rows.size() && rows.get(i).id() == cursor + 1) {
                out.add(rows.get(i));
                cursor++;
                i++;
            }
            if (i >= rows.size()) {
                gap = null;
                stats.lagRows.set(0);
                return false;
            }
            long next = rows.get(i).id();
            if (next <= cursor) {
                // Cannot happen for a read past the cursor; skip defensively rather than loop.
                i++;
                continue;
            }
            long lo = cursor + 1;
            long hi = next - 1;
            if (gap != null && gap.range.contains(lo)) {
                // hi cannot pass the range's end: the row after it was visible when the gap was found.
                hi = Math.min(hi, gap.range.to());
                if (gap.confirm) {
                    stats.gapsRolledBack.incrementAndGet();
                    cursor = hi;
                    gap = null;
                    continue;
                }
                gap.range = new IdRange(lo, hi);
                if (now - gap.sinceNanos > settings.maxGapWait().toNanos()) {
                    giveUp(gap);
                    cursor = hi;
                    gap = null;
                    continue;
                }
            } else {
                gap = new Held(new IdRange(lo, hi), null, now, false);
            }
            stats.lagRows.set(rows.size() - i);
            return true;
        }
    }

    private void giveUp(Held g) {
        stats.gapsOverdue.incrementAndGet();
        LOG.log(System.Logger.Level.WARNING, "ids " + g.range.from() + ".." + g.range.to()
                + " held delivery longer than " + settings.maxGapWait()
                + "; moving on, a late commit will still be delivered (x-late)");
        Held w = new Held(g.range, g.candidates, g.sinceNanos, true);
        watches.add(w);
    }

    private void removeFromWatches(long id) {
        List<Held> split = new ArrayList<>();
        for (Iterator<Held> it = watches.iterator(); it.hasNext(); ) {
            Held w = it.next();
            if (!w.range.contains(id)) {
                continue;
            }
            it.remove();
            if (id > w.range.from()) {
                split.add(copy(w, new IdRange(w.range.from(), id - 1)));
            }
            if (id < w.range.to()) {
                split.add(copy(w, new IdRange(id + 1, w.range.to())));
            }
        }
        watches.addAll(split);
    }

    private static Held copy(Held w, IdRange range) {
        Held h = new Held(range, w.candidates == null ? null : new HashSet<>(w.candidates), w.sinceNanos, w.overdue);
        h.confirm = w.confirm;
        return h;
    }

    private long currentLagMs(long now) {
        return gap == null ? 0 : TimeUnit.NANOSECONDS.toMillis(now - gap.sinceNanos);
    }

    private void updateStatus(long now, List<EventRow> rows, List<EventRow> out) {
        long lag = currentLagMs(now);
        if (gap == null && lastBatchFull && !out.isEmpty()) {
            // Catching up: the newest row handed on is as old as the backlog behind it.
            Instant newest = out.getLast().createdAt();
            lag = Math.max(0, Instant.now().toEpochMilli() - newest.toEpochMilli());
        }
        stats.lagMs.set(lag);
        boolean overdue = watches.stream().anyMatch(w -> w.overdue);
        if (overdue) {
            report(FeedStatus.degraded("rows held past max-gap-wait", lag));
        } else if (lag > settings.lagThreshold().toMillis()) {
            report(FeedStatus.degraded("feed lagging", lag));
        } else {
            report(FeedStatus.ok(lag));
        }
    }

    private void report(FeedStatus next) {
        if (next.ok() != status.ok() || !next.reason().equals(status.reason())) {
            status = next;
            if (!next.ok()) {
                LOG.log(System.Logger.Level.WARNING, "feed degraded: " + next.reason());
            } else {
                LOG.log(System.Logger.Level.INFO, "feed ok");
            }
            try {
                sink.status(next);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "status listener failed", e);
            }
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
