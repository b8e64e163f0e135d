package io.vaultbroker.it;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.web.HttpParseFailures;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP connections dropped mid-headers cost one counted line a minute, not a stack trace each;
 * other warnings of the same Helidon logger still show.
 */
class HttpParseFailuresTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final int DROPPED = 40;

    @Test
    void droppedRequestHeadsAreCountedAndSummarisedNotLoggedEach() throws Exception {
        List<LogRecord> records = Collections.synchronizedList(new ArrayList<>());
        Handler capture = LogCapture.into(records);
        Logger root = Logger.getLogger("");
        root.addHandler(capture);
        Application app = TestBroker.start();
        try {
            HttpParseFailures failures = HttpParseFailures.install();
            failures.report();
            long before = failures.total();
            records.clear();
            for (int i = 0; i < DROPPED; i++) {
                try (Socket s = new Socket("127.0.0.1", app.port())) {
                    OutputStream out = s.getOutputStream();
                    out.write(("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: " + i).getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
            }
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (failures.total() - before < DROPPED) {
                assertTrue(System.nanoTime() < deadline, "counted " + (failures.total() - before) + " of " + DROPPED);
                Thread.sleep(10);
            }
            failures.report();
            List<LogRecord> seen = List.copyOf(records);
            List<String> traces = seen.stream().filter(r -> r.getThrown() != null)
                    .map(r -> r.getLoggerName() + ": " + r.getMessage()).toList();
            assertThat(traces.toString(), traces.isEmpty(), is(true));
            List<String> summaries = seen.stream().filter(r -> r.getLoggerName().equals(HttpParseFailures.class.getName()))
                    .map(LogRecord::getMessage).toList();
            assertThat(summaries.toString(), summaries.size(), is(1));
            assertThat(summaries.getFirst(), startsWith(DROPPED + " HTTP connection(s) ended before a complete request head"));
            System.out.printf("%d dropped request heads: %d log records, 1 summary line%n", DROPPED, seen.size());

            // Another warning of that logger is not swallowed.
            int mark = records.size();
            Logger.getLogger("io.helidon.webserver.http1.Http1Connection")
                    .log(Level.WARNING, "Internal server error", new IllegalStateException("a real bug"));
            assertThat(records.size(), is(mark + 1));
        } finally {
            root.removeHandler(capture);
            app.stop();
        }
    }
}
