package io.vaultbroker.it;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.auth.Base58;
import io.vaultbroker.broker.Destination;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every credential kind over a real WebSocket against a broker that checks {@code iss} and
 * {@code aud} and holds an HMAC secret plus RSA, EC and Ed25519 keys from a JWKS file: only the
 * valid credentials connect; expiry ends a session; nothing secret reaches a log line.
 */
class SecurityEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String ISS = "https://issuer.vault.test";
    private static final String DAPP_HOST = "dapp.vault.test";
    private static final String AUD = "vault-broker";
    private static final byte[] SECRET = TestBroker.SECRET.getBytes(StandardCharsets.UTF_8);
    private static final KeyPair RSA = Jws.keyPair("RSA");
    private static final KeyPair EC = Jws.keyPair("EC");
    private static final KeyPair ED = Jws.keyPair("Ed25519");
    private static Application app;
    private static Path jwks;

    @BeforeAll
    static void start() throws Exception {
        jwks = Files.createTempFile("vault-broker-jwks", ".json");
        JWKSet set = new JWKSet(List.of(
                new RSAKey.Builder((RSAPublicKey) RSA.getPublic()).keyID("rsa-1").build(),
                new ECKey.Builder(Curve.P_256, (ECPublicKey) EC.getPublic()).keyID("ec-1").build(),
                new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(Base58.decode(Jws.walletPubkey(ED))))
                        .keyID("ed-1").build()));
        Files.writeString(jwks, set.toString(true));
        app = TestBroker.start("auth.jwt.issuer", ISS, "auth.jwt.audience", AUD,
                "auth.jwt.jwks-file", jwks.toString(), "auth.wallet.hosts.0", DAPP_HOST);
    }

    @AfterAll
    static void stop() throws Exception {
        app.stop();
        Files.deleteIfExists(jwks);
    }

    private static String hs(String sub, long exp) {
        return Jws.hs256(SECRET, Jws.header("HS256", null), Jws.claims(sub, exp, null, ISS, AUD));
    }

    @Test
    void onlyValidCredentialsConnect() throws Exception {
        String pk = TestBroker.pubkey();
        long now = Jws.now();
        String good = Jws.claims(pk, now + 600, null, ISS, AUD);
        String valid = hs(pk, now + 600);
        Map<String, String[]> valid_ = new LinkedHashMap<>();
        valid_.put("HS256 in passcode", new String[] {"passcode", valid});
        valid_.put("HS256 in Authorization: Bearer", new String[] {"Authorization", "Bearer " + valid});
        valid_.put("RS256 kid rsa-1 from JWKS", new String[] {"passcode",
            Jws.signed("SHA256withRSA", RSA.getPrivate(), Jws.header("RS256", "rsa-1"), good)});
        valid_.put("ES256 kid ec-1 from JWKS", new String[] {"passcode",
            Jws.signed("SHA256withECDSAinP1363Format", EC.getPrivate(), Jws.header("ES256", "ec-1"), good)});
        valid_.put("EdDSA kid ed-1 from JWKS", new String[] {"passcode",
            Jws.signed("Ed25519", ED.getPrivate(), Jws.header("EdDSA", "ed-1"), good)});
        valid_.put("nbf in the past", new String[] {"passcode",
            Jws.hs256(SECRET, Jws.header("HS256", null), Jws.claims(pk, now + 600, now - 10, ISS, AUD))});

        String[] parts = valid.split("\\.");
        String otherSub = Jws.claims(TestBroker.pubkey(), now + 600, null, ISS, AUD);
        KeyPair otherRsa = Jws.keyPair("RSA");
        Map<String, String[]> invalid = new LinkedHashMap<>();
        invalid.put("expired", new String[] {"passcode", hs(pk, now - 60)});
        invalid.put("expired beyond skew, via Bearer", new String[] {"Authorization", "Bearer " + hs(pk, now - 60)});
        invalid.put("nbf in the future", new String[] {"passcode",
            Jws.hs256(SECRET, Jws.header("HS256", null), Jws.claims(pk, now + 600, now + 120, ISS, AUD))});
        invalid.put("no exp", new String[] {"passcode",
            Jws.hs256(SECRET, Jws.header("HS256", null), Jws.claims(pk, null, null, ISS, AUD))});
        invalid.put("wrong HMAC key", new String[] {"passcode",
            Jws.hs256("another-secret-that-is-long-enough-for-hs".getBytes(StandardCharsets.UTF_8),
                    Jws.header("HS256", null), good)});
        invalid.put("wrong RSA key under kid rsa-1", new String[] {"passcode",
            Jws.signed("SHA256withRSA", otherRsa.getPrivate(), Jws.header("RS256", "rsa-1"), good)});
        invalid.put("unknown kid", new String[] {"passcode",
            Jws.signed("SHA256withRSA", RSA.getPrivate(), Jws.header("RS256", "rsa-9"), good)});
        invalid.put("wrong algorithm: RS256 header over the EC key", new String[] {"passcode",
            Jws.signed("SHA256withRSA", RSA.getPrivate(), Jws.header("RS256", "ec-1"), good)});
        invalid.put("algorithm confusion: HS256 keyed with the RSA public key", new String[] {"passcode",
            Jws.hs256(RSA.getPublic().getEncoded(), Jws.header("HS256", "rsa-1"), good)});
        invalid.put("algorithm confusion: HS256 keyed with the JWKS PEM", new String[] {"passcode",
            Jws.hs256(Jws.pem(RSA.getPublic()).getBytes(StandardCharsets.US_ASCII), Jws.header("HS256", "rsa-1"), good)});
        invalid.put("HS512 over a 42-byte secret", new String[] {"passcode",
            Jws.hs256(SECRET, Jws.header("HS512", null), good)});
        invalid.put("alg none, no signature", new String[] {"passcode",
            Jws.b64(Jws.header("none", null)) + "." + Jws.b64(good) + "."});
        invalid.put("alg none with the valid signature", new String[] {"passcode",
            Jws.b64(Jws.header("none", null)) + "." + parts[1] + "." + parts[2]});
        invalid.put("alg None", new String[] {"passcode",
            Jws.b64(Jws.header("None", null)) + "." + Jws.b64(good) + "."});
        invalid.put("tampered payload (other sub)", new String[] {"passcode",
            parts[0] + "." + Jws.b64(otherSub) + "." + parts[2]});
        invalid.put("tampered payload (admin role added)", new String[] {"passcode", parts[0] + "."
            + Jws.b64(Jws.claims(pk, now + 600, null, ISS, AUD, "admin")) + "." + parts[2]});
        invalid.put("signature stripped", new String[] {"passcode", parts[0] + "." + parts[1] + "."});
        invalid.put("wrong iss", new String[] {"passcode",
            Jws.hs256(SECRET, Jws.header("HS256", null), Jws.claims(pk, now + 600, null, "https://evil.test", AUD))});
        invalid.put("no iss", new String[] {"passcode",
            Jws.hs256(SECRET, Jws.header("HS256", null), Jws.claims(pk, now + 600, null, null, AUD))});
        invalid.put("wrong aud", new String[] {"passcode",
            Jws.hs256(SECRET, Jws.header("HS256", null), Jws.claims(pk, now + 600, null, ISS, "other-service"))});
        invalid.put("no aud", new String[] {"passcode",
            Jws.hs256(SECRET, Jws.header("HS256", null), Jws.claims(pk, now + 600, null, ISS, null))});
        invalid.put("JWE-shaped, five parts", new String[] {"passcode", valid + ".x.y"});
        invalid.put("garbage", new String[] {"passcode", "not-a-token"});
        invalid.put("empty passcode", new String[] {"passcode", ""});
        invalid.put("Bearer with nothing", new String[] {"Authorization", "Bearer "});
        invalid.put("Basic auth", new String[] {"Authorization", "Basic dXNlcjpwYXNz"});
        invalid.put("3 KiB of junk", new String[] {"passcode", "A".repeat(3000) + "." + "B".repeat(100) + ".C"});
        invalid.put("no credential at all", new String[] {"login", pk});

        List<String> wrong = new ArrayList<>();
        for (var e : valid_.entrySet()) {
            String got = attempt(e.getValue());
            if (!got.equals("CONNECTED")) {
                wrong.add("valid '" + e.getKey() + "' got " + got);
            }
        }
        for (var e : invalid.entrySet()) {
            String got = attempt(e.getValue());
            if (!got.equals("ERROR authentication failed, closed")) {
                wrong.add("invalid '" + e.getKey() + "' got " + got);
            }
        }
        System.out.printf("credential matrix over the wire: %d valid connected, %d invalid refused%n",
                valid_.size(), invalid.size() - wrong.size());
        assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    }

    @Test
    void walletSignInOverTheWire() throws Exception {
        KeyPair wallet = Jws.keyPair("Ed25519");
        String pk = Jws.walletPubkey(wallet);
        String host = DAPP_HOST; // the dapp's host, as auth.wallet.hosts lists it
        long now = Jws.now();
        String sig = Jws.walletSignature(wallet, host, now);

        try (StompTestClient c = StompTestClient.open(app.port())) {
            c.send(wallet(pk, host, now, sig));
            StompTestClient.Received r = c.next(WAIT);
            assertThat(r.command() + " " + r.header("message"), r.command(), is(StompCommand.CONNECTED));
            assertThat(r.header("user-name"), is(pk));
            c.subscribe("b", "/user/" + pk + "/balance");
            long id = TestDb.insert("balance_update", pk, "{\"wallet\":true}");
            assertThat(c.next(WAIT).header("message-id"), is(Long.toString(id)));

            // Still connected: the same signature on a second socket is a replay.
            assertEquals("ERROR authentication failed, closed", attemptFrame(wallet(pk, host, now, sig)), "replay");
        }
        assertEquals("ERROR authentication failed, closed", attemptFrame(wallet(pk, host, now, sig)), "replay after close");

        long t = Jws.now();
        String other = "vault.example.com";
        assertEquals("ERROR authentication failed, closed",
                attemptFrame(wallet(pk, other, t, Jws.walletSignature(wallet, other, t))), "signed for another host");
        String upgradeHost = "127.0.0.1:" + app.port(); // what the JDK client sends as the upgrade's Host
        assertEquals("ERROR authentication failed, closed",
                attemptFrame(wallet(pk, upgradeHost, t, Jws.walletSignature(wallet, upgradeHost, t))),
                "signed for the upgrade's own Host, which is not listed");
        assertEquals("ERROR authentication failed, closed",
                attemptFrame(wallet(pk, host, t, Jws.walletSignature(wallet, "localhost:" + app.port(), t))),
                "signed for another host, sent with ours");
        assertEquals("ERROR authentication failed, closed",
                attemptFrame(wallet(pk, host, t - 120, Jws.walletSignature(wallet, host, t - 120))), "stale");
        assertEquals("ERROR authentication failed, closed",
                attemptFrame(wallet(pk, host, t + 120, Jws.walletSignature(wallet, host, t + 120))), "from the future");
        assertEquals("ERROR authentication failed, closed",
                attemptFrame(wallet(pk, host, t + 1, Jws.walletSignature(wallet, host, t))), "signed-at altered");
        KeyPair thief = Jws.keyPair("Ed25519");
        assertEquals("ERROR authentication failed, closed",
                attemptFrame(wallet(pk, host, t, Jws.walletSignature(thief, host, t))), "someone else's signature");
        byte[] notAKey = new byte[31];
        notAKey[0] = 7;
        assertEquals("ERROR authentication failed, closed",
                attemptFrame(wallet(Base58.encode(notAKey), host, t, Jws.walletSignature(wallet, host, t))), "31-byte login");
        assertEquals("ERROR authentication failed, closed",
                attemptFrame(wallet(pk, host, t, "x" + Jws.walletSignature(wallet, host, t + 2))), "signature not base58");
        assertEquals("ERROR authentication failed, closed",
                attemptFrame(wallet(pk, host, t, Jws.walletSignature(wallet, host, t + 3) + "1")), "signature 65 bytes");

        // A fresh signature still works after all that.
        // Ed25519 signatures are deterministic: a new second makes a new signature.
        long t2 = t + 1;
        assertEquals("CONNECTED", attemptFrame(wallet(pk, host, t2, Jws.walletSignature(wallet, host, t2))));
    }

    @Test
    void aTokenThatExpiresEndsTheSessionAndItsSubscriptions() throws Exception {
        String pk = TestBroker.pubkey();
        // At least 2 s after CONNECT, whatever the millisecond now is (exp has whole seconds).
        long exp = (System.currentTimeMillis() + 2999) / 1000;
        int before = app.broker().subscriptions(Destination.Kind.USER_BALANCE);
        try (StompTestClient c = StompTestClient.connect(app.port(), hs(pk, exp));
             StompTestClient fresh = StompTestClient.connect(app.port(), hs(pk, Jws.now() + 600))) {
            c.subscribe("b", "/user/" + pk + "/balance");
            fresh.subscribe("b", "/user/" + pk + "/balance");
            long live = TestDb.insert("balance_update", pk, "{\"n\":1}");
            assertThat(c.next(WAIT).header("message-id"), is(Long.toString(live)));
            assertThat(fresh.next(WAIT).header("message-id"), is(Long.toString(live)));

            StompTestClient.Received e = c.next(Duration.ofSeconds(8));
            long endedAt = System.currentTimeMillis();
            assertThat(e.command(), is(StompCommand.ERROR));
            assertThat(e.header("message"), is("token expired"));
            assertTrue(c.awaitClosed(WAIT), "closed after token expired");
            assertTrue(endedAt / 1000 >= exp && endedAt < (exp + 3) * 1000,
                    "ended within ~1 s after exp (" + (endedAt - exp * 1000) + " ms)");
            assertTrue(waitFor(() -> app.broker().subscriptions(Destination.Kind.USER_BALANCE) == before + 1),
                    "the expired session's subscription is gone");

            long after = TestDb.insert("balance_update", pk, "{\"n\":2}");
            assertThat(fresh.next(WAIT).header("message-id"), is(Long.toString(after)));
            assertThat("nothing more on the expired socket", c.poll(Duration.ofMillis(500)), nullValue());
        }
    }

    @Test
    void secretsNeverReachTheLog() throws Exception {
        List<LogRecord> records = new CopyOnWriteArrayList<>();
        Handler h = LogCapture.into(records);
        Logger root = Logger.getLogger("");
        Level rootLevel = root.getLevel();
        root.addHandler(h);
        root.setLevel(Level.ALL);
        List<String> secrets = new ArrayList<>();
        try {
            String pk = TestBroker.pubkey();
            String good = hs(pk, Jws.now() + 600);
            String bad = Jws.hs256("another-secret-that-is-long-enough-for-hs".getBytes(StandardCharsets.UTF_8),
                    Jws.header("HS256", null), Jws.claims(pk, Jws.now() + 600, null, ISS, AUD));
            KeyPair wallet = Jws.keyPair("Ed25519");
            String wpk = Jws.walletPubkey(wallet);
            String host = DAPP_HOST;
            long t = Jws.now();
            String sig = Jws.walletSignature(wallet, host, t);
            String staleSig = Jws.walletSignature(wallet, host, t - 600);
            secrets.addAll(List.of(good, bad, sig, staleSig, "Bearer " + good));
            // The signature part alone must not leak either (a log line could cut a token at its dots).
            secrets.add(good.substring(good.lastIndexOf('.') + 1));
            secrets.add(bad.substring(bad.lastIndexOf('.') + 1));

            int mark = records.size();
            assertEquals("ERROR authentication failed, closed", attempt(new String[] {"passcode", bad}));
            List<String> failures = messages(records.subList(mark, records.size())).stream()
                    .filter(m -> m.contains("authentication failed")).toList();
            assertEquals(1, failures.size(), "one log line per auth failure: " + failures);
            assertTrue(failures.get(0).contains("127.0.0.1"), "with the remote address: " + failures.get(0));
            assertTrue(failures.get(0).contains("(bad-signature)") || failures.get(0).matches(".*\\([a-z-]+\\).*"),
                    "with a reason category: " + failures.get(0));

            assertEquals("CONNECTED", attempt(new String[] {"passcode", good}));
            assertEquals("CONNECTED", attempt(new String[] {"Authorization", "Bearer " + good}));
            mark = records.size();
            assertEquals("ERROR authentication failed, closed", attemptFrame(wallet(wpk, host, t - 600, staleSig)));
            List<String> walletFailures = messages(records.subList(mark, records.size())).stream()
                    .filter(m -> m.contains("authentication failed")).toList();
            assertEquals(1, walletFailures.size(), walletFailures.toString());
            assertTrue(walletFailures.get(0).contains("(stale)"), walletFailures.get(0));
            assertEquals("CONNECTED", attemptFrame(wallet(wpk, host, t, sig)));
            assertEquals("ERROR authentication failed, closed", attemptFrame(wallet(wpk, host, t, sig)));
            waitFor(() -> messages(records).stream().filter(m -> m.contains("closed: subject " + wpk)).count() >= 1);
        } finally {
            root.removeHandler(h);
            root.setLevel(rootLevel);
        }
        List<String> all = messages(records);
        assertTrue(all.size() > 5, "the handler saw the broker's log: " + all.size());
        for (String m : all) {
            for (String s : secrets) {
                assertTrue(!m.contains(s), "a secret reached the log: " + m);
            }
        }
        System.out.printf("log capture: %d records, none with a token, passcode or signature%n", all.size());
    }

    private static List<String> messages(List<LogRecord> records) {
        List<String> out = new ArrayList<>();
        for (LogRecord r : records) {
            String m = r.getMessage() == null ? "" : r.getMessage();
            if (r.getParameters() != null) {
                m = m + " " + Arrays.toString(r.getParameters());
            }
            if (r.getThrown() != null) {
                m = m + " " + r.getThrown();
            }
            out.add(m);
        }
        return out;
    }

    private static StompFrame wallet(String pubkey, String host, long signedAt, String signature) {
        return StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2", "host", host,
                "login", pubkey, "passcode", signature, "x-signed-at", Long.toString(signedAt), "heart-beat", "0,0"));
    }

    /** CONNECT with one credential header; "CONNECTED" or "ERROR <message>[, closed]". */
    private static String attempt(String[] header) throws Exception {
        return attemptFrame(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2",
                "host", "127.0.0.1", header[0], header[1], "heart-beat", "0,0")));
    }

    private static String attemptFrame(StompFrame connect) throws Exception {
        try (StompTestClient c = StompTestClient.open(app.port())) {
            c.send(connect);
            StompTestClient.Received r = c.next(WAIT);
            if (r.command() == StompCommand.CONNECTED) {
                return "CONNECTED";
            }
            return r.command() + " " + r.header("message") + (c.awaitClosed(WAIT) ? ", closed" : ", still open");
        }
    }

    static boolean waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(20);
        }
        return condition.getAsBoolean();
    }
}
