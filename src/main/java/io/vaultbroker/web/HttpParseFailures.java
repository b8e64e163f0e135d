package io.vaultbroker.web;

import java.io.UncheckedIOException;
import java.net.SocketException;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Filter;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Helidon 4.5 logs every HTTP connection that ends before its request head is complete (a peer
 * that hangs up mid-headers) as a WARNING "Internal server error" with a 17-line stack trace,
 * from {@code io.helidon.webserver.http1.Http1Connection#handleRequestException}; it offers no
 * switch for it, and raising that logger's level would hide real internal errors too. So a
 * filter on that logger drops exactly those records (the cause chain holds Helidon's
 * "insufficient data" or a socket error) and counts them, and one line a minute says how many
 * there were. Anything else that logger says passes untouched.
 *
 * <p>Process-wide, like the logger it filters. Thread-safe: adders, and JUL calls the filter
 * from any connection thread.
 */
public final class HttpParseFailures implements Filter {
    static final String HELIDON_LOGGER = "io.helidon.webserver.http1.Http1Connection";
    private static final String INSUFFICIENT_DATA =
            "io.helidon.common.buffers.DataReader$InsufficientDataAvailableException";
    private static final System.Logger LOG = System.getLogger(HttpParseFailures.class.getName());
    private static HttpParseFailures installed;

    /** Held so JUL, which keeps loggers weakly, never drops the logger and our filter with it. */
    private final Logger logger;
    private final Filter previous;
    private final LongAdder total = new LongAdder();
    private final LongAdder sinceLastLine = new LongAdder();

    private HttpParseFailures(Logger logger) {
        this.logger = logger;
        this.previous = logger.getFilter();
    }

    /** Installs the filter once per process and returns it. */
    public static synchronized HttpParseFailures install() {
        if (installed == null) {
            Logger logger = Logger.getLogger(HELIDON_LOGGER);
            installed = new HttpParseFailures(logger);
            logger.setFilter(installed);
        }
        return installed;
    }

    /** Logs the count every {@code period} while any came in. */
    public void start(ScheduledExecutorService scheduler, Duration period) {
        long ms = Math.max(10, period.toMillis());
        scheduler.scheduleWithFixedDelay(this::report, ms, ms, TimeUnit.MILLISECONDS);
    }

    @Override
    public boolean isLoggable(LogRecord record) {
        if (droppedMidRequest(record.getThrown())) {
            total.increment();
            sinceLastLine.increment();
            return false;
        }
        return previous == null || previous.isLoggable(record);
    }

    /** Writes the one line for the period, when there is anything to say. */
    public void report() {
        long n = sinceLastLine.sumThenReset();
        if (n > 0) {
            LOG.log(System.Logger.Level.WARNING, n + " HTTP connection(s) ended before a complete request head"
                    + " (peer closed or reset mid-request) since the last report; " + total.sum() + " since start");
        }
    }

    /** Connections counted so far. */
    public long total() {
        return total.sum();
    }

    private static boolean droppedMidRequest(Throwable thrown) {
        for (Throwable t = thrown; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t.getClass().getName().equals(INSUFFICIENT_DATA)
                    || (t instanceof UncheckedIOException && t.getCause() instanceof SocketException)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "HttpParseFailures[" + logger.getName() + "]";
    }
}
