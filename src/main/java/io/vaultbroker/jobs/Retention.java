package io.vaultbroker.jobs;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.helidon.dbclient.DbClient;
import io.helidon.dbclient.DbRow;
import io.helidon.dbclient.DbTransaction;

/**
 * Deletes {@code vault_events} rows older than the retention window in small batches, one instance
 * at a time (transaction-scoped advisory lock), and records the highest deleted id as
 * {@code vault_broker_state('retention_horizon')} in the same transaction, so a resume from an
 * older id gets the gap notice. (Expired wallet sign-in signatures are purged on their own
 * schedule by {@link io.vaultbroker.db.DbSignatureLedger}, whether or not retention runs.)
 *
 * <p>Threading: runs on the jobs scheduler thread; the counters are atomics read from any thread.
 */
public final class Retention {
    private static final System.Logger LOG = System.getLogger(Retention.class.getName());
    /** Advisory lock key shared by all instances ("vb-ret"). */
    public static final long LOCK_KEY = 0x76622d726574L;
    // Bounds one run, so a huge backlog is worked off over several intervals.
    private static final int MAX_BATCHES_PER_RUN = 100;

    /**
     * @param enabled   whether this instance deletes at all
     * @param window    rows older than this go
     * @param batchSize rows per delete transaction
     * @param interval  time between runs
     */
    public record Settings(boolean enabled, Duration window, int batchSize, Duration interval) {
    }

    /** What a run did: rows deleted, and whether the lock was held elsewhere. */
    public record Result(long deleted, long horizon, boolean busy) {
    }

    private final DbClient db;
    private final Settings settings;
    private final AtomicLong deleted = new AtomicLong();
    private final AtomicLong busy = new AtomicLong();

    public Retention(DbClient db, Settings settings) {
        this.db = db;
        this.settings = settings;
    }

    /** Schedules runs every interval. */
    public void start(ScheduledExecutorService scheduler) {
        long ms = Math.max(10, settings.interval().toMillis());
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                Result r = runOnce();
                if (r.deleted() > 0) {
                    LOG.log(System.Logger.Level.INFO, "retention deleted " + r.deleted() + " rows up to id " + r.horizon());
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "retention run failed: " + e.getMessage());
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }

    /** Deletes expired rows in batches (bounded per run). */
    public Result runOnce() {
        long total = 0;
        long horizon = 0;
        boolean wasBusy = false;
        for (int b = 0; b < MAX_BATCHES_PER_RUN; b++) {
            long[] batch = batch();
            if (batch == null) {
                wasBusy = true;
                busy.incrementAndGet();
                break;
            }
            total += batch[0];
            horizon = Math.max(horizon, batch[1]);
            if (batch[0] < settings.batchSize()) {
                break;
            }
        }
        deleted.addAndGet(total);
        return new Result(total, horizon, wasBusy);
    }

    // One batch in one transaction: {rows deleted, highest id deleted}, or null when busy.
    private long[] batch() {
        DbTransaction tx = db.transaction();
        try {
            boolean locked = AdvisoryLock.tryTake(tx, LOCK_KEY);
            if (!locked) {
                tx.rollback();
                return null;
            }
            DbRow r = tx.get("WITH d AS (DELETE FROM vault_events WHERE id IN (SELECT id FROM vault_events"
                            + " WHERE created_at < now() - ? * interval '1 millisecond'"
                            // Never a row no feed has settled past: a backfill with an old
                            // created_at is delivered before it is forgotten.
                            + " AND id <= coalesce((SELECT value FROM vault_broker_state WHERE key = 'feed_settled_through'), 0)"
                            + " ORDER BY id LIMIT ?) RETURNING id)"
                            + " SELECT count(*) AS n, coalesce(max(id), 0) AS top FROM d",
                    settings.window().toMillis(), settings.batchSize()).orElseThrow();
            long n = r.column("n").get(Long.class);
            long top = r.column("top").get(Long.class);
            if (n > 0) {
                tx.dml("INSERT INTO vault_broker_state (key, value) VALUES ('retention_horizon', ?)"
                        + " ON CONFLICT (key) DO UPDATE SET value = greatest(vault_broker_state.value, excluded.value)", top);
            }
            tx.commit();
            return new long[] {n, top};
        } catch (RuntimeException e) {
            try {
                tx.rollback();
            } catch (RuntimeException ignored) {
                // The connection is gone; the transaction is gone with it.
            }
            throw e;
        }
    }

    /** Rows this instance has deleted. */
    public long deleted() {
        return deleted.get();
    }

    /** Runs that found another instance holding the lock. */
    public long busy() {
        return busy.get();
    }
}
