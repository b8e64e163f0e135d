package io.vaultbroker.it;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One resume-position parser on every endpoint and the CLI (finding 10): a position over
 * {@link Long#MAX_VALUE}, or written with digits of another script, is refused with a short
 * reason, never a server error or an exception's text; {@link Long#MAX_VALUE} itself is taken.
 */
class ResumeAfterWireTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String OVER = "9999999999999999999";
    private static final String ARABIC_INDIC_12 = "\u0661\u0662";
    private static Application app;

    @BeforeAll
    static void start() throws Exception {
        app = TestBroker.start();
    }

    @AfterAll
    static void stop() {
        app.stop();
    }

    @Test
    void stompRefusesAPositionThatIsNoRowIdWithAnError() throws Exception {
        for (String bad : new String[] {OVER, "9223372036854775808", ARABIC_INDIC_12, "+5", ""}) {
            String owner = TestBroker.pubkey();
            try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
                c.send(StompFrame.of(StompCommand.SUBSCRIBE, StompHeaders.of("id", "t", "destination",
                        "/user/" + owner + "/tx", "x-resume-after", bad, "receipt", "r")));
                StompTestClient.Received r = c.next(WAIT);
                assertThat("'" + bad + "'", r.command(), is(StompCommand.ERROR));
                assertThat(r.header("message"), is("invalid x-resume-after"));
                assertTrue(c.awaitClosed(WAIT));
            }
        }
        String owner = TestBroker.pubkey();
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
            c.subscribe("t", "/user/" + owner + "/tx", "x-resume-after", Long.toString(Long.MAX_VALUE));
            long next = TestDb.insert("transaction_confirmed", owner, "{\"n\":1}");
            // Resumed past everything: the row is not sent (the feed hands rows on before it moves
            // its cursor, so a MESSAGE would be queued before this receipt), and the session lives.
            ResumeTest.awaitFeedPast(app, next);
            c.subscribe("h", "/system/health");
        }
    }

    @Test
    void theSeedEndpointClosesWith1008AndAShortReason() throws Exception {
        for (String bad : new String[] {OVER, "9223372036854775808", ARABIC_INDIC_12, "-1", ""}) {
            String owner = TestBroker.pubkey();
            URI uri = URI.create("ws://127.0.0.1:" + app.port() + "/ws/" + owner + "?access_token="
                    + TestBroker.userToken(owner) + "&resume_after=" + URLEncoder.encode(bad, StandardCharsets.UTF_8));
            Closed closed = Closed.open(uri);
            assertThat("'" + bad + "'", closed.code.get(WAIT.toMillis(), TimeUnit.MILLISECONDS), is(1008));
            assertThat(closed.reason, is("invalid resume_after"));
        }
    }

    @Test
    void theCliRefusesItAsAUsageError() {
        String owner = TestBroker.pubkey();
        CliTest.Run r = CliTest.run("--url", "ws://127.0.0.1:" + app.port() + "/stomp", "--token",
                TestBroker.userToken(owner), "--subscribe", "/user/" + owner + "/tx", "--resume-after", OVER);
        assertThat(r.code(), is(2));
        assertThat(r.err(), containsString("--resume-after must be a message-id"));
        CliTest.Run arabic = CliTest.run("--url", "ws://127.0.0.1:" + app.port() + "/stomp", "--token",
                TestBroker.userToken(owner), "--subscribe", "/user/" + owner + "/tx", "--resume-after", ARABIC_INDIC_12);
        assertThat(arabic.code(), is(2));
    }

    /** Records the close code and reason of a WebSocket the server closes. */
    private static final class Closed implements WebSocket.Listener {
        final CompletableFuture<Integer> code = new CompletableFuture<>();
        volatile String reason;

        static Closed open(URI uri) throws Exception {
            Closed c = new Closed();
            HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(uri, c).get(10, TimeUnit.SECONDS);
            return c;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String why) {
            reason = why;
            code.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            code.complete(1006);
        }
    }
}
