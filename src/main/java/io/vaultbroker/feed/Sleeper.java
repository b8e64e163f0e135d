package io.vaultbroker.feed;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.postgresql.PGConnection;

/**
 * The feed's side of the wake-up protocol (migration V3): a feed that is asleep holds an exclusive
 * advisory lock on its slot, and a producer's trigger notifies exactly when it cannot take that
 * lock shared. The trigger asks the lock manager, not a table, so its answer is live whatever the
 * producer's isolation level or snapshot; a producer that took the lock shared (and so will not
 * notify) keeps it until it ends, so once the feed holds its lock every such producer has ended,
 * and one more read sees all they committed. While the feed waits for its lock, producers already
 * notify (a lock request queued behind them conflicts with theirs).
 *
 * <p>The lock lives on a connection of its own, used by one virtual thread: waiting for it must
 * not stop the feed from reading. A slot is claimed per feed instance, so instances never wait for
 * each other; with all {@link #SLOTS} claimed, a feed polls instead of sleeping.
 *
 * <p>Threading: {@link #want}, {@link #asleep}, {@link #broken} and {@link #close} from the feed
 * thread; everything else on the sleeper's own thread; shared fields under {@code lock}.
 */
final class Sleeper implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sleeper.class.getName());
    /** Slots the V3 trigger checks; keep in step with db/migrations/V3__live_wakeup.sql. */
    static final int SLOTS = 16;
    // "vbs1": the sleep locks (one per slot); "vbc1": who owns a slot.
    static final int SLEEP_KEY = 0x76627331;
    static final int CLAIM_KEY = 0x76626331;
    private static final int ATTEMPT_MS = 200;

    private final Connection c;
    private final int slot;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean wanted;
    private boolean held;
    private boolean failed;
    private boolean closed;
    private final Thread thread;

    private Sleeper(Connection c, int slot) {
        this.c = c;
        this.slot = slot;
        this.thread = Thread.ofVirtual().name("vault-broker-feed-sleeper").start(this::run);
    }

    /** Claims a free slot on the given connection (closed here when none is free): null then. */
    static Sleeper open(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET lock_timeout = '" + ATTEMPT_MS + "ms'");
            for (int slot = 0; slot < SLOTS; slot++) {
                try (ResultSet rs = s.executeQuery("SELECT pg_try_advisory_lock(" + CLAIM_KEY + ", " + slot + ")")) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return new Sleeper(c, slot);
                    }
                }
            }
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        c.close();
        LOG.log(System.Logger.Level.WARNING, "all " + SLOTS + " wake-up slots are taken by other broker instances;"
                + " this feed polls instead of sleeping (feed.poll-interval bounds its latency when idle)");
        return null;
    }

    /** Asks to sleep (hold the lock) or to stay awake (release it). Never blocks. */
    void want(boolean asleep) {
        lock.lock();
        try {
            if (wanted != asleep) {
                wanted = asleep;
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** True when sleep was asked for and the lock is held: producers notify from now on. */
    boolean asleep() {
        lock.lock();
        try {
            return wanted && held && !failed;
        } finally {
            lock.unlock();
        }
    }

    /** True when the sleeper's connection failed; open a new one. */
    boolean broken() {
        lock.lock();
        try {
            return failed;
        } finally {
            lock.unlock();
        }
    }

    int slot() {
        return slot;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(2 * ATTEMPT_MS + 500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            // Closing the connection releases the slot and the sleep lock with it.
            c.close();
        } catch (SQLException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the sleeper's connection: " + e.getMessage());
        }
    }

    private void run() {
        try (Statement s = c.createStatement()) {
            PGConnection pg = c.unwrap(PGConnection.class);
            while (true) {
                boolean want;
                boolean have;
                lock.lock();
                try {
                    if (closed) {
                        return;
                    }
                    want = wanted;
                    have = held;
                    if (want == have && !have) {
                        changed.await();
                        continue;
                    }
                } finally {
                    lock.unlock();
                }
                if (want && !have) {
                    boolean got = attempt(s);
                    setHeld(got);
                } else if (!want) {
                    try (ResultSet rs = s.executeQuery("SELECT pg_advisory_unlock(" + SLEEP_KEY + ", " + slot + ")")) {
                        rs.next();
                    }
                    setHeld(false);
                } else {
                    // Asleep: read the socket in short slices, so a dropped connection (which
                    // released the lock) is noticed at once rather than at the next wake-up.
                    pg.getNotifications(ATTEMPT_MS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(null);
        } catch (SQLException | RuntimeException e) {
            fail(e);
        }
    }

    // One bounded wait for the lock: lock_timeout ends it, so a later "stay awake" is seen soon.
    private boolean attempt(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT pg_advisory_lock(" + SLEEP_KEY + ", " + slot + ")")) {
            rs.next();
            return true;
        } catch (SQLException e) {
            if ("55P03".equals(e.getSQLState())) {
                return false;
            }
            throw e;
        }
    }

    private void setHeld(boolean h) {
        lock.lock();
        try {
            held = h;
        } finally {
            lock.unlock();
        }
    }

    private void fail(Exception e) {
        lock.lock();
        try {
            if (!closed && e != null) {
                LOG.log(System.Logger.Level.WARNING, "feed sleeper lost its connection: " + e.getMessage());
            }
            failed = true;
            held = false;
        } finally {
            lock.unlock();
        }
    }
}
