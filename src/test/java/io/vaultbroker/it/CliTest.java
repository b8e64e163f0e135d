package io.vaultbroker.it;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.cli.CliAccess;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI client against a running broker: JSON lines, exit codes. */
class CliTest {
    private static Application app;

    @BeforeAll
    static void start() throws Exception {
        app = TestBroker.start();
    }

    @AfterAll
    static void stop() {
        app.stop();
    }

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = CliAccess.run(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private String url() {
        return "ws://127.0.0.1:" + app.port() + "/stomp";
    }

    @Test
    void printsEachMessageAsOneJsonLineAndExitsAfterCount() throws Exception {
        String owner = TestBroker.pubkey();
        long before = TestDb.insert("balance_update", owner, "{\"totalBalance\":1}");
        // Resume only from a row the feed has passed: rows above its cursor would still come live.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (app.feed().stats().cursor() < before && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        // --resume-after makes the run independent of when the subscription becomes live.
        CompletableFuture<Run> r = CompletableFuture.supplyAsync(() -> run("--url", url(), "--token",
                TestBroker.userToken(owner), "--subscribe", "/user/" + owner + "/balance", "--subscribe",
                "/user/" + owner + "/tx", "--count", "2", "--timeout", "20s", "--resume-after", Long.toString(before)));
        long b = TestDb.insert("balance_update", owner, "{\"totalBalance\":123456789012345678901234567890}");
        long t = TestDb.insert("transaction_confirmed", owner, "{\"amount\":0.10}");
        Run done = r.get();
        assertThat(done.err(), done.code(), is(0));
        String[] printed = done.out().strip().split("\n");
        assertThat(printed.length, is(2));
        // One line per destination; the two destinations' rows may come in either order (only
        // the rows of one destination are ordered), so each line is found by its destination.
        String[] lines = printed[0].contains("/balance\"") ? printed : new String[] {printed[1], printed[0]};
        assertTrue(lines[0].matches("\\{\"destination\":\"/user/" + owner + "/balance\",\"messageId\":\"" + b
                + "\",\"event\":\"balance_update\",\"body\":\\{\"event\":\"balance_update\",\"data\":"
                + "\\{\"totalBalance\": ?123456789012345678901234567890\\},\"timestamp\":\"[^\"]+\"\\}\\}"), lines[0]);
        assertTrue(lines[1].contains("\"messageId\":\"" + t + "\"") && lines[1].contains("0.10"), lines[1]);
        assertThat(done.err(), containsString("subscribed: /user/" + owner + "/balance /user/" + owner + "/tx"));
    }

    @Test
    void snapshotIsMarked() {
        Run r = run("--url", url(), "--token", TestBroker.adminToken(), "--subscribe", "/system/health",
                "--count", "1", "--timeout", "10s");
        assertThat(r.err(), r.code(), is(0));
        assertThat(r.out(), containsString("\"event\":\"health_update\""));
    }

    @Test
    void timeoutExitsOne() {
        String owner = TestBroker.pubkey();
        Run r = run("--url", url(), "--token", TestBroker.userToken(owner), "--subscribe", "/user/" + owner + "/tx",
                "--count", "1", "--timeout", "1s");
        assertThat(r.code(), is(1));
        assertThat(r.err(), containsString("timeout"));
    }

    @Test
    void authenticationFailureAndAccessDeniedExitThree() {
        Run bad = run("--url", url(), "--token", "not-a-token", "--subscribe", "/admin/tvl", "--count", "1");
        assertThat(bad.code(), is(3));
        assertThat(bad.err(), containsString("authentication failed"));
        String owner = TestBroker.pubkey();
        Run denied = run("--url", url(), "--token", TestBroker.userToken(owner), "--subscribe", "/admin/tvl",
                "--count", "1", "--timeout", "10s");
        assertThat(denied.code(), is(3));
        assertThat(denied.err(), containsString("access denied"));
        Run refused = run("--url", "ws://127.0.0.1:1/stomp", "--token", "x", "--subscribe", "/admin/tvl");
        assertThat(refused.code(), is(3));
    }

    @Test
    void usageErrorsExitTwo() {
        assertThat(run("--subscribe", "/admin/tvl").code(), is(2));
        assertThat(run("--token", "t").code(), is(2));
        assertThat(run("--token", "t", "--subscribe", "/admin/tvl", "--timeout", "soon").code(), is(2));
        assertThat(run("frobnicate").code(), is(2));
        assertThat(run("--help").code(), is(0));
    }

    @Test
    void mintTokenMakesATokenTheBrokerAccepts() {
        Run minted = run("mint-token", "--secret", TestBroker.SECRET, "--sub", "ops", "--role", "admin", "--ttl", "PT5M");
        assertThat(minted.err(), minted.code(), is(0));
        Run r = run("--url", url(), "--token", minted.out().strip(), "--subscribe", "/system/health", "--count", "1",
                "--timeout", "10s");
        assertThat(r.err(), r.code(), is(0));
        assertThat(r.err(), containsString("as ops"));
        assertThat(run("mint-token", "--secret", "short", "--sub", "x").code(), is(2));
        Run keys = run("random-pubkey", "--count", "3");
        assertThat(keys.out().strip().split("\n").length, is(3));
        assertTrue(io.vaultbroker.auth.Access.isPubkey(keys.out().strip().split("\n")[0]));
    }
}
