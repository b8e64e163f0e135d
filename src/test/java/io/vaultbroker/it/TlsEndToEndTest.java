package io.vaultbroker.it;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * wss:// with Helidon's own TLS, configured exactly as docs/security.md says, with a self-signed
 * certificate made by the JDK's keytool for this run.
 */
class TlsEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String ALIAS = "broker";
    private static final String PASSWORD = "changeit-test";

    @TempDir
    static Path dir;
    private static Path keystore;
    private static Application app;

    @BeforeAll
    static void start() throws Exception {
        keystore = dir.resolve("server.p12");
        generateKeystore(keystore);
        app = TestBroker.start(
                "server.tls.private-key.keystore.resource.path", keystore.toString(),
                "server.tls.private-key.keystore.passphrase", PASSWORD,
                "server.tls.private-key.keystore.key.alias", ALIAS);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.stop();
        }
    }

    @Test
    void eventArrivesOverWss() throws Exception {
        String owner = TestBroker.pubkey();
        URI uri = URI.create("wss://127.0.0.1:" + app.port() + "/stomp");
        try (StompTestClient c = StompTestClient.open(trustingClient(), uri, "v12.stomp")) {
            assertThat(c.subprotocol(), is("v12.stomp"));
            c.send(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2", "host", "localhost",
                    "passcode", TestBroker.userToken(owner), "heart-beat", "0,0")));
            assertThat(c.next(WAIT).command(), is(StompCommand.CONNECTED));
            c.subscribe("tx", "/user/" + owner + "/tx");

            long id = TestDb.insert("transaction_confirmed", owner, "{\"transactionId\":\"tls-1\",\"amount\":7}");
            StompTestClient.Received m = c.next(WAIT);
            assertThat(m.command(), is(StompCommand.MESSAGE));
            assertThat(m.header("destination"), is("/user/" + owner + "/tx"));
            assertThat(m.header("message-id"), is(Long.toString(id)));
            assertTrue(m.body().contains("\"tls-1\""), m.body()); // jsonb: the database normalises spacing
        }
    }

    @Test
    void plainWsToTheTlsPortFails() {
        URI uri = URI.create("ws://127.0.0.1:" + app.port() + "/stomp");
        // ExecutionException, not a timeout: the server ends the handshake at once.
        ExecutionException e = assertThrows(ExecutionException.class, () -> StompTestClient.open(uri, "v12.stomp").close());
        assertTrue(e.getCause() instanceof java.io.IOException, e.toString());
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateFails() {
        URI uri = URI.create("wss://127.0.0.1:" + app.port() + "/stomp");
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> StompTestClient.open(HttpClient.newHttpClient(), uri, "v12.stomp").close());
        boolean handshake = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
            handshake |= t instanceof javax.net.ssl.SSLHandshakeException;
        }
        assertTrue(handshake, "refused in the TLS handshake: " + e);
    }

    /** keytool from the running JDK: an EC P-256 key and a self-signed certificate for 127.0.0.1. */
    private static void generateKeystore(Path file) throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Process p = new ProcessBuilder(List.of(keytool.toString(), "-genkeypair", "-noprompt",
                "-alias", ALIAS, "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "san=ip:127.0.0.1,dns:localhost",
                "-storetype", "PKCS12", "-keystore", file.toString(),
                "-storepass", PASSWORD, "-keypass", PASSWORD))
                .redirectErrorStream(true)
                .start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool finished");
        assertThat("keytool exit code; output: " + output, p.exitValue(), is(0));
        assertTrue(Files.size(file) > 0);
    }

    /** An HttpClient that trusts exactly the test certificate. */
    private static HttpClient trustingClient() throws Exception {
        KeyStore server = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            server.load(in, PASSWORD.toCharArray());
        }
        Certificate cert = server.getCertificate(ALIAS);
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("broker-test", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(5)).build();
    }
}
