package io.vaultbroker.jobs;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.helidon.dbclient.DbClient;
import io.helidon.dbclient.DbTransaction;

import io.vaultbroker.broker.Destination;
import io.vaultbroker.feed.EventRow;
import io.vaultbroker.feed.FeedPosition;
import io.vaultbroker.feed.FeedSink;
import io.vaultbroker.feed.FeedStatus;

/**
 * Computes the platform's TVL with a configurable query and writes it as a {@code tvl_update} row
 * into {@code vault_events}, so every instance's feed delivers the same value to {@code /admin/tvl}.
 *
 * <p>Runs when the feed has seen a balance change, at most once per interval, and only under a
 * transaction-scoped advisory lock, so one instance at a time computes; a row is written only when
 * the value differs from the latest {@code tvl_update}, read in the same transaction after the lock.
 *
 * <p>Threading: {@link #observe} runs on the feed thread, runs happen on the jobs scheduler thread;
 * they share only atomics.
 */
public final class TvlAggregator {
    private static final System.Logger LOG = System.getLogger(TvlAggregator.class.getName());
    /** Advisory lock key shared by all instances ("vb-tvl"). */
    public static final long LOCK_KEY = 0x76622d74766cL;
    private static final BigDecimal MAX_SAFE = BigDecimal.valueOf(9007199254740991L);

    /**
     * @param enabled  off by default: a platform without the example schema has no {@code vaults}
     * @param query    one row, one numeric column named {@code tvl}
     * @param interval the least time between two runs of this instance
     */
    public record Settings(boolean enabled, String query, Duration interval) {
    }

    /** What a run did. */
    public enum Outcome { WRITTEN, UNCHANGED, BUSY }

    private final DbClient db;
    private final Settings settings;
    // Set before the first run so a fresh instance checks the value once.
    private final AtomicBoolean dirty = new AtomicBoolean(true);
    private final AtomicLong runs = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong busy = new AtomicLong();

    public TvlAggregator(DbClient db, Settings settings) {
        this.db = db;
        this.settings = settings;
    }

    /** A sink that hands everything on to {@code downstream} and marks TVL dirty on balance changes. */
    public FeedSink watching(FeedSink downstream) {
        return new FeedSink() {
            @Override
            public void deliver(List<EventRow> rows, FeedPosition position) {
                observe(rows);
                downstream.deliver(rows, position);
            }

            @Override
            public void status(FeedStatus status) {
                downstream.status(status);
            }
        };
    }

    void observe(List<EventRow> rows) {
        for (EventRow r : rows) {
            if (r.eventType() != null && Destination.changesBalance(r.eventType())) {
                dirty.set(true);
                return;
            }
        }
    }

    /** Schedules runs every interval; a run does nothing unless a balance changed. */
    public void start(ScheduledExecutorService scheduler) {
        long ms = Math.max(10, settings.interval().toMillis());
        scheduler.scheduleWithFixedDelay(this::tick, ms, ms, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        if (!dirty.getAndSet(false)) {
            return;
        }
        try {
            if (runOnce() == Outcome.BUSY) {
                dirty.set(true);
            }
        } catch (RuntimeException e) {
            dirty.set(true);
            LOG.log(System.Logger.Level.WARNING, "TVL run failed: " + e.getMessage());
        }
    }

    /** Computes and, when changed, writes TVL once; returns BUSY when another instance holds the lock. */
    public Outcome runOnce() {
        runs.incrementAndGet();
        DbTransaction tx = db.transaction();
        try {
            boolean locked = AdvisoryLock.tryTake(tx, LOCK_KEY);
            if (!locked) {
                tx.rollback();
                busy.incrementAndGet();
                return Outcome.BUSY;
            }
            String tvl = tx.get("SELECT (q.tvl)::numeric::text AS tvl FROM (" + settings.query() + ") AS q")
                    .map(r -> r.column("tvl").get(String.class)).orElse("0");
            String json = json(tvl);
            boolean same = tx.get("SELECT (payload->'tvl') = ?::jsonb AS same FROM vault_events"
                            + " WHERE event_type = 'tvl_update' ORDER BY id DESC LIMIT 1", json)
                    .map(r -> Boolean.TRUE.equals(r.column("same").get(Boolean.class))).orElse(false);
            if (same) {
                tx.commit();
                return Outcome.UNCHANGED;
            }
            tx.insert("INSERT INTO vault_events (event_type, owner, payload) VALUES ('tvl_update', NULL,"
                    + " jsonb_build_object('tvl', ?::jsonb))", json);
            tx.commit();
            written.incrementAndGet();
            return Outcome.WRITTEN;
        } catch (RuntimeException e) {
            try {
                tx.rollback();
            } catch (RuntimeException ignored) {
                // The connection is gone; the transaction is gone with it.
            }
            throw e;
        }
    }

    /** The value as JSON: a number when JavaScript reads it exactly, else a string. */
    static String json(String decimal) {
        BigDecimal v = new BigDecimal(decimal).stripTrailingZeros();
        boolean integral = v.scale() <= 0;
        if (integral && v.abs().compareTo(MAX_SAFE) <= 0) {
            return v.toBigInteger().toString();
        }
        return "\"" + (integral ? v.toBigInteger().toString() : v.toPlainString()) + "\"";
    }

    /** Runs started, including those that found the lock taken. */
    public long runs() {
        return runs.get();
    }

    /** Rows this instance wrote. */
    public long written() {
        return written.get();
    }

    /** Runs that found another instance holding the lock. */
    public long busy() {
        return busy.get();
    }
}
