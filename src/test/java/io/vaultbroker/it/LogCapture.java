package io.vaultbroker.it;

import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * A JUL handler that keeps every record it is given, for tests that read the broker's log.
 * Thread-safe as far as the list it is given is (pass a synchronised or copy-on-write list).
 */
final class LogCapture {
    private LogCapture() {
    }

    /** A handler at {@link Level#ALL} that adds each record to {@code records}; install it where needed. */
    static Handler into(List<LogRecord> records) {
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        h.setLevel(Level.ALL);
        return h;
    }
}
