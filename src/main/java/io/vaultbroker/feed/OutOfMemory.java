package io.vaultbroker.feed;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts OutOfMemoryErrors caught anywhere in the broker and logs the first. The launcher runs the
 * JVM with {@code -XX:+ExitOnOutOfMemoryError}, so normally the process exits and is restarted;
 * this is what remains when it runs without that flag. Thread-safe.
 */
public final class OutOfMemory {
    private static final System.Logger LOG = System.getLogger(OutOfMemory.class.getName());
    private static final AtomicLong COUNT = new AtomicLong();
    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    private OutOfMemory() {
    }

    /** Counts the error; logs it the first time only (logging itself needs memory). */
    public static void record(OutOfMemoryError e) {
        COUNT.incrementAndGet();
        if (LOGGED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.ERROR, "OutOfMemoryError: " + e.getMessage()
                    + " (run the JVM with -XX:+ExitOnOutOfMemoryError so an orchestrator restarts it)");
        }
    }

    /** OutOfMemoryErrors seen so far. */
    public static long count() {
        return COUNT.get();
    }
}
