package io.vaultbroker.it;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The upgrade: Origin allow-list (Helidon's own check) and no WebSocket on other paths. */
class HandshakeTest {
    @Test
    void defaultIsSameOriginAndNonBrowsersPass() throws Exception {
        Application app = TestBroker.start();
        try {
            int p = app.port();
            assertEquals(403, status(p, "/stomp", "Origin", "https://evil.example"));
            assertEquals(403, status(p, "/stomp", "Origin", "http://localhost:" + p)); // Host says 127.0.0.1
            assertEquals(101, status(p, "/stomp", "Origin", "http://127.0.0.1:" + p));
            assertEquals(101, status(p, "/stomp"));
            int other = status(p, "/foo");
            assertTrue(other >= 400, "no upgrade on /foo: " + other);
            assertTrue(status(p, "/stomp/") >= 400, "no upgrade on /stomp/");
            assertTrue(status(p, "/STOMP") >= 400, "no upgrade on /STOMP");
        } finally {
            app.stop();
        }
    }

    @Test
    void configuredOriginsOnly() throws Exception {
        Application app = TestBroker.start("server.protocols.websocket.origins.0", "https://app.vault.example");
        try {
            int p = app.port();
            assertEquals(101, status(p, "/stomp", "Origin", "https://app.vault.example"));
            assertEquals(403, status(p, "/stomp", "Origin", "https://evil.example"));
            assertEquals(403, status(p, "/stomp", "Origin", "https://app.vault.example.evil.example"));
            assertEquals(101, status(p, "/stomp"));
        } finally {
            app.stop();
        }
    }

    private static int status(int port, String path, String... headers) throws Exception {
        try (RawWs raw = RawWs.upgrade(port, path, headers)) {
            return raw.status();
        }
    }
}
