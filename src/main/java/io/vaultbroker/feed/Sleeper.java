package io.vaultbroker.feed;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The feed's side of the wake-up protocol (migration V3): a feed that is asleep holds
 * {@code vault_broker_wake} in SHARE mode, and a producer's trigger notifies exactly when it cannot
 * take that table in ROW EXCLUSIVE mode at once. The trigger asks the lock manager, not a table's
 * rows, so its answer is live whatever the producer's isolation level or snapshot; a producer that
 * took the lock (and so will not notify) keeps it until it ends, so once the feed holds its lock
 * every such producer has ended, and one more read sees all they committed. While the feed waits
 * for its lock, producers already notify (their request conflicts with the queued one). SHARE locks
 * do not conflict with each other, so every instance's feed can sleep at once.
 *
 * <p>The lock is held by a transaction, on a connection of its own, used by one virtual thread:
 * waiting for it must not stop the feed from reading. That transaction takes no snapshot and no
 * transaction id, so it holds back no vacuum while it sleeps.
 *
 * <p>Threading: {@link #want}, {@link #asleep}, {@link #broken} and {@link #close} from the feed
 * thread; everything else on the sleeper's own thread; shared fields under {@code lock}.
 */
final class Sleeper implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sleeper.class.getName());
    // One bounded wait for the lock: lock_timeout ends it, so a later "stay awake" is seen soon.
    private static final int ATTEMPT_MS = 200;
    private static final long CHECK_MS = 1000;

    private final Connection c;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean wanted;
    private boolean held;
    private boolean failed;
    private boolean closed;
    private final Thread thread;

    private Sleeper(Connection c) {
        this.c = c;
        this.thread = Thread.ofVirtual().name("vault-broker-feed-sleeper").start(this::run);
    }

    /** Takes the connection (closed with the sleeper). */
    static Sleeper open(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET lock_timeout = '" + ATTEMPT_MS + "ms'");
            c.setAutoCommit(false);
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        return new Sleeper(c);
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
            thread.join(ATTEMPT_MS + CHECK_MS + 500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            // Closing the connection ends its transaction, and the lock with it.
            c.close();
        } catch (SQLException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the sleeper's connection: " + e.getMessage());
        }
    }

    private void run() {
        try (Statement s = c.createStatement()) {
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
                    setHeld(attempt(s));
                } else if (!want) {
                    c.rollback();
                    setHeld(false);
                } else {
                    awaitWhileAsleep();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(null);
        } catch (SQLException | RuntimeException e) {
            fail(e);
        }
    }

    // Asleep, the connection is inside its transaction, where the driver reads nothing between
    // statements (it would return at once, not wait): wait for a wake-up here instead, and check
    // once a second that the connection lives, since its end released the lock.
    private void awaitWhileAsleep() throws InterruptedException, SQLException {
        lock.lock();
        try {
            if (closed || !wanted) {
                return;
            }
            changed.await(CHECK_MS, TimeUnit.MILLISECONDS);
            if (closed || !wanted) {
                return;
            }
        } finally {
            lock.unlock();
        }
        if (!c.isValid(2)) {
            throw new SQLException("the sleeper's connection is gone");
        }
    }

    private boolean attempt(Statement s) throws SQLException {
        try {
            s.execute("LOCK TABLE vault_broker_wake IN SHARE MODE");
            return true;
        } catch (SQLException e) {
            if ("55P03".equals(e.getSQLState())) {
                c.rollback();
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
