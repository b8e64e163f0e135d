package io.vaultbroker.it;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The smaller hostile-client findings: an admin subject with CR/LF, what metrics tell a stranger
 * about kids, wallet sign-in with no hosts configured, and the signature ledger's purge with
 * retention off.
 */
class HostileCredentialsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String K1_SECRET = "kid-one-secret-that-is-32-bytes!";

    @Test
    void anUnprintableSubjectIsAnAuthenticationFailureAndNeverSplitsALogLine() throws Exception {
        List<LogRecord> records = Collections.synchronizedList(new ArrayList<>());
        Handler capture = capture(records);
        Logger.getLogger("io.vaultbroker").addHandler(capture);
        Application app = TestBroker.start();
        try {
            for (String sub : List.of("ops\r\n2026-12-01T00:00:00 INFO session 1 connected: subject admin",
                    "ops\u0000admin", "ops\u001b[31madmin", "ops\u202eadmin", "ops\u2028admin")) {
                String token = TestBroker.MINTER.mint(sub, Set.of("admin"), Duration.ofHours(1));
                try (StompTestClient c = StompTestClient.open(app.port())) {
                    c.send(connect(token));
                    StompTestClient.Received r = c.next(WAIT);
                    assertThat(r.command(), is(StompCommand.ERROR));
                    assertThat(r.header("message"), is("authentication failed"));
                    assertTrue(c.awaitClosed(WAIT), "closed");
                    assertThat("close code", c.closeCode(), not(is(1011)));
                }
            }
            // A printable admin name still works, spaces and all.
            try (StompTestClient c = StompTestClient.open(app.port())) {
                c.send(connect(TestBroker.MINTER.mint("ops console", Set.of("admin"), Duration.ofHours(1))));
                assertThat(c.next(WAIT).command(), is(StompCommand.CONNECTED));
            }
        } finally {
            Logger.getLogger("io.vaultbroker").removeHandler(capture);
            app.stop();
        }
        for (LogRecord r : List.copyOf(records)) {
            String m = String.valueOf(r.getMessage());
            assertFalse(m.contains("\r") || m.contains("\n") || m.contains("\u001b") || m.contains("\u202e"),
                    "a log line carries a control character: " + m.replace("\r", "\\r").replace("\n", "\\n"));
        }
    }

    @Test
    void metricsDoNotTellAStrangerWhetherAKidExists() throws Exception {
        Application app = TestBroker.start("auth.jwt.secrets.0.kid", "k1", "auth.jwt.secrets.0.secret", K1_SECRET);
        try {
            String pk = TestBroker.pubkey();
            String claims = Jws.claims(pk, Jws.now() + 600, null, null, null);
            byte[] k1 = K1_SECRET.getBytes(StandardCharsets.UTF_8);
            // A kid that exists with an algorithm it does not allow, and a kid that does not exist:
            // inside, "bad-algorithm" and "unknown-kid"; to a stranger they must look the same.
            String existingKid = Jws.hs256(k1, "{\"alg\":\"HS512\",\"kid\":\"k1\",\"typ\":\"JWT\"}", claims);
            String unknownKid = Jws.hs256(k1, Jws.header("HS256", "k9"), claims);
            String before = authFailureLines(app);
            refused(app, existingKid);
            String afterExisting = authFailureLines(app);
            refused(app, unknownKid);
            String afterUnknown = authFailureLines(app);
            assertThat(before, is(""));
            assertThat(afterExisting, is("vault_broker_auth_failures_total{credential=\"jwt\",scope=\"application\",} 1.0"));
            assertThat(afterUnknown, is("vault_broker_auth_failures_total{credential=\"jwt\",scope=\"application\",} 2.0"));
            // The kid that exists still works.
            try (StompTestClient c = StompTestClient.open(app.port())) {
                c.send(connect(Jws.hs256(k1, Jws.header("HS256", "k1"), claims)));
                assertThat(c.next(WAIT).command(), is(StompCommand.CONNECTED));
            }
        } finally {
            app.stop();
        }
    }

    @Test
    void withoutWalletHostsAWalletSignInIsRefusedAndTheLedgerIsPurgedWithRetentionOff() throws Exception {
        Application app = TestBroker.start("retention.enabled", "false", "auth.wallet.purge-interval", "PT0.1S");
        String tag = "sig-" + UUID.randomUUID();
        try (Connection db = DriverManager.getConnection(TestDb.URL, "postgres", "");
             Statement st = db.createStatement()) {
            assertThat(app.retention() == null, is(true));
            KeyPair wallet = Jws.keyPair("Ed25519");
            long t = Jws.now();
            String host = "127.0.0.1:" + app.port();
            String sig = Jws.walletSignature(wallet, host, t);
            try (StompTestClient c = StompTestClient.open(app.port())) {
                c.send(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2", "host", host,
                        "login", Jws.walletPubkey(wallet), "passcode", sig, "x-signed-at", Long.toString(t))));
                StompTestClient.Received r = c.next(WAIT);
                assertThat(r.command() + " " + r.header("message"), is("ERROR authentication failed"));
            }
            assertEquals(0, count(st, "SELECT count(*) FROM vault_broker_signatures WHERE signature = '" + digest(sig) + "'"),
                    "a refused sign-in reaches no ledger");

            st.execute("INSERT INTO vault_broker_signatures VALUES ('" + tag + "-old', now() - interval '1 second'),"
                    + " ('" + tag + "-young', now() + interval '1 hour')");
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (count(st, "SELECT count(*) FROM vault_broker_signatures WHERE signature = '" + tag + "-old'") > 0) {
                assertTrue(System.nanoTime() < deadline, "expired signature not purged with retention off");
                Thread.sleep(20);
            }
            assertEquals(1, count(st, "SELECT count(*) FROM vault_broker_signatures WHERE signature = '" + tag + "-young'"),
                    "a signature still inside its window is kept");
        } finally {
            app.stop();
            try (Connection db = DriverManager.getConnection(TestDb.URL, "postgres", "");
                 Statement st = db.createStatement()) {
                st.execute("DELETE FROM vault_broker_signatures WHERE signature LIKE '" + tag + "%'");
            }
        }
    }

    @Test
    void aSignatureAPhishingPageObtainedIsRefusedOverTheWire() throws Exception {
        Application app = TestBroker.start("auth.wallet.hosts.0", "app.example");
        try {
            KeyPair wallet = Jws.keyPair("Ed25519");
            String pk = Jws.walletPubkey(wallet);
            long t = Jws.now();
            // The page at phish.example had the user sign for its own host, and says so in every header it can.
            assertThat(walletConnect(app, pk, "phish.example", t, Jws.walletSignature(wallet, "phish.example", t)),
                    is("ERROR authentication failed"));
            assertThat(walletConnect(app, pk, "app.example", t, Jws.walletSignature(wallet, "phish.example", t)),
                    is("ERROR authentication failed"));
            assertThat(walletConnect(app, pk, "app.example", t, Jws.walletSignature(wallet, "app.example", t)),
                    is("CONNECTED"));
        } finally {
            app.stop();
        }
    }

    private static String walletConnect(Application app, String pk, String host, long t, String sig) throws Exception {
        try (StompTestClient c = StompTestClient.open(app.port())) {
            c.send(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2", "host", host,
                    "login", pk, "passcode", sig, "x-signed-at", Long.toString(t))));
            StompTestClient.Received r = c.next(WAIT);
            return r.command() == StompCommand.CONNECTED ? "CONNECTED" : r.command() + " " + r.header("message");
        }
    }

    @Test
    void aUsedSignatureIsRememberedByTheDatabasesClock() throws Exception {
        Application app = TestBroker.start("auth.wallet.hosts.0", "dapp.vault.test");
        try (Connection db = DriverManager.getConnection(TestDb.URL, "postgres", "");
             Statement st = db.createStatement()) {
            KeyPair wallet = Jws.keyPair("Ed25519");
            long t = Jws.now();
            String sig = Jws.walletSignature(wallet, "dapp.vault.test", t);
            try (StompTestClient c = StompTestClient.open(app.port())) {
                c.send(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2",
                        "host", "dapp.vault.test", "login", Jws.walletPubkey(wallet), "passcode", sig,
                        "x-signed-at", Long.toString(t))));
                assertThat(c.next(WAIT).command(), is(StompCommand.CONNECTED));
            }
            // Stale 60 s after signed-at by our clock, kept a window longer, measured from the database's now().
            long seconds = count(st, "SELECT extract(epoch FROM forget_after - now())::bigint FROM vault_broker_signatures"
                    + " WHERE signature = '" + digest(sig) + "'");
            assertTrue(seconds > 100 && seconds <= 121, "forget_after - now() = " + seconds + " s");
        } finally {
            app.stop();
        }
    }

    private static void refused(Application app, String token) throws Exception {
        try (StompTestClient c = StompTestClient.open(app.port())) {
            c.send(connect(token));
            assertThat(c.next(WAIT).header("message"), is("authentication failed"));
        }
    }

    private static String authFailureLines(Application app) throws Exception {
        String body = ObservabilityTest.get(app, "/observe/metrics").body();
        return String.join("\n", body.lines().filter(l -> l.startsWith("vault_broker_auth_failures")).toList());
    }

    private static StompFrame connect(String token) {
        return StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2", "host", "127.0.0.1",
                "passcode", token, "heart-beat", "0,0"));
    }

    private static long count(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String digest(String signatureBase58) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(signatureBase58.getBytes(StandardCharsets.US_ASCII)));
    }

    private static Handler capture(List<LogRecord> records) {
        return LogCapture.into(records);
    }
}
