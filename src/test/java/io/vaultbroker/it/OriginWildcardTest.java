package io.vaultbroker.it;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasSize;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** origins: ["*"] is no wildcard in Helidon 4.5; the operator is told so once at start. */
class OriginWildcardTest {
    @Test
    void starIsLiteralAndStartWarnsOnce() throws Exception {
        List<LogRecord> warnings = new CopyOnWriteArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger logger = Logger.getLogger(Application.class.getName());
        logger.addHandler(h);
        Application app = null;
        try {
            app = TestBroker.start("server.protocols.websocket.origins.0", "*");
            List<String> origin = warnings.stream().map(LogRecord::getMessage)
                    .filter(m -> m.contains("server.protocols.websocket.origins")).toList();
            assertThat(origin, hasSize(1));
            assertThat(origin.get(0), containsString("does NOT allow every origin"));
            assertThat(origin.get(0), containsString("SERVER_PROTOCOLS_WEBSOCKET_ORIGINS_0=https://app.example.com"));

            // What the warning says: a browser origin is refused, a client without Origin passes.
            int p = app.port();
            try (RawWs browser = RawWs.upgrade(p, "/stomp", "Origin", "https://app.example.com")) {
                assertEquals(403, browser.status());
            }
            try (RawWs server = RawWs.upgrade(p, "/stomp")) {
                assertEquals(101, server.status());
            }
        } finally {
            logger.removeHandler(h);
            if (app != null) {
                app.stop();
            }
        }
    }
}
