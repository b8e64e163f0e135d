package io.vaultbroker.it;

import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replay's burst never exceeds what the outbox admits (finding 7): bounded by the outbox's
 * frames (250 here, below {@code replay.limit} 1,000) and by half its bytes (200,000 of 400,000).
 * At the bound every row comes with no gap notice; one row over, the gap notice comes first and
 * then the newest rows that fit. The session is never a slow consumer.
 */
class ReplayBoundTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int FRAMES = 250;
    private static final int REPLAY_CHARS = 400_000 / 2;
    private static ScratchDb db;
    private static Application app;

    @BeforeAll
    static void start() throws Exception {
        db = ScratchDb.create(false);
        app = TestBroker.start("db.connection.url", db.url, "limits.outbox-frames", Integer.toString(FRAMES),
                "limits.outbox-bytes", "400000", "replay.limit", "1000");
    }

    @AfterAll
    static void stop() throws Exception {
        app.stop();
        db.close();
    }

    @Test
    void aReplayAtTheOutboxFrameBoundIsWholeAndOneOverBeginsWithTheGapNotice() throws Exception {
        String owner = TestBroker.pubkey();
        List<Long> ids = insert(owner, 300, "{\"n\": 1}");
        String dest = "/user/" + owner + "/balance";

        // The seed endpoint: two notices (balance, tx), then the newest rows that fit (its welcome
        // and health message may still be queued). First, before any tx row exists.
        String token = TestBroker.userToken(owner);
        try (SeedEndpointTest.JsonClient j = SeedEndpointTest.JsonClient.open(URI.create("ws://127.0.0.1:" + app.port()
                + "/ws/" + owner + "?access_token=" + token + "&resume_after=" + ids.get(298 - FRAMES)))) {
            j.next(); // welcome
            assertTrue(j.nextRow().startsWith("{\"event\":\"resume_gap\""));
            assertTrue(j.nextRow().startsWith("{\"event\":\"resume_gap\""));
            List<Long> got = new ArrayList<>();
            while (got.isEmpty() || got.getLast() < ids.getLast()) {
                String m = j.nextRow();
                got.add(Long.parseLong(m.substring(m.lastIndexOf(":") + 1, m.length() - 1)));
            }
            assertThat(got.size(), lessThanOrEqualTo(FRAMES - 2));
            // Less only what was queued meanwhile: the welcome, health messages.
            assertThat(got.size(), greaterThanOrEqualTo(FRAMES - 8));
            assertEquals(ids.subList(300 - got.size(), 300), got, "the newest rows, in order");
            long live = db.insert("transaction_confirmed", owner, "{\"live\":true}");
            String m = j.nextRow();
            assertTrue(m.endsWith(",\"id\":" + live + "}"), m);
        }
        List<StompTestClient.Received> exact = replay(owner, dest, ids.get(299 - FRAMES), ids.getLast());
        assertEquals(ids.subList(300 - FRAMES, 300), Messages.rowIds(exact), "exactly the bound: every row");
        assertTrue(exact.stream().noneMatch(r -> r.header("x-resume") != null), "no gap notice at the bound");

        for (int round = 0; round < 3; round++) {
            List<StompTestClient.Received> over = replay(owner, dest, ids.get(298 - FRAMES), ids.getLast());
            assertGapFirst(over, ids.get(301 - FRAMES));
            assertEquals(ids.subList(301 - FRAMES, 300), Messages.rowIds(over),
                    "one over: the notice and the newest rows that fit the outbox (" + (FRAMES - 1) + ")");
        }

        assertThat(app.broker().stats().slowConsumers(), is(0L));
    }

    @Test
    void aReplayAtTheByteBoundIsWholeAndOneOverBeginsWithTheGapNotice() throws Exception {
        String owner = TestBroker.pubkey();
        List<Long> ids = insert(owner, 300, "{\"pad\": \"" + "x".repeat(4000) + "\"}");
        String dest = "/user/" + owner + "/balance";

        // From the start: far over the byte bound (and under the frame bound).
        List<StompTestClient.Received> all = replay(owner, dest, ids.getFirst() - 1, ids.getLast());
        List<Long> got = Messages.rowIds(all);
        int fit = got.size();
        long size = frameChars(all.get(1));
        assertGapFirst(all, ids.get(300 - fit));
        assertEquals(ids.subList(300 - fit, 300), got, "the newest rows");
        assertThat("they fit in half the outbox", fit * size, lessThanOrEqualTo((long) REPLAY_CHARS));
        assertTrue((fit + 1) * size > REPLAY_CHARS, "one more would not: " + fit + " rows of " + size);
        assertThat(fit, lessThanOrEqualTo(FRAMES - 1));

        List<StompTestClient.Received> exact = replay(owner, dest, ids.get(299 - fit), ids.getLast());
        assertEquals(ids.subList(300 - fit, 300), Messages.rowIds(exact), "exactly the bound: every row");
        assertTrue(exact.stream().noneMatch(r -> r.header("x-resume") != null), "no gap notice at the bound");

        List<StompTestClient.Received> over = replay(owner, dest, ids.get(298 - fit), ids.getLast());
        assertGapFirst(over, ids.get(300 - fit));
        assertEquals(ids.subList(300 - fit, 300), Messages.rowIds(over), "one over: the newest that fit");
        assertThat(app.broker().stats().slowConsumers(), is(0L));
    }

    /** Resumes after {@code after}, collects through {@code last}, then checks a live row still comes. */
    private static List<StompTestClient.Received> replay(String owner, String dest, long after, long last) throws Exception {
        try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owner))) {
            ResumeTest.subscribe(c, "b", dest, "x-resume-after", Long.toString(after));
            List<StompTestClient.Received> got = Messages.until(c, last, WAIT);
            assertTrue(got.stream().allMatch(r -> r.command() == StompCommand.MESSAGE),
                    "only messages, no ERROR: " + got.getLast().header("message"));
            // Live rows go to tx, so that later replays of balance are not changed by them.
            c.subscribe("t", "/user/" + owner + "/tx");
            long live = db.insert("transaction_confirmed", owner, "{\"live\":true}");
            assertEquals(List.of(live), Messages.rowIds(Messages.until(c, live, WAIT)), "still open for live rows");
            return got;
        }
    }

    private static void assertGapFirst(List<StompTestClient.Received> got, long oldest) {
        StompTestClient.Received gap = got.getFirst();
        assertThat(gap.header("x-resume"), is("gap"));
        assertThat(gap.header("event"), is("resume_gap"));
        assertTrue(gap.body().contains("\"oldestId\":" + oldest), gap.body());
        assertThat("one notice", got.stream().filter(r -> r.header("x-resume") != null).count(), is(1L));
    }

    /** The characters of a MESSAGE as the server queued it: command, header lines, blank line, body, NUL. */
    private static long frameChars(StompTestClient.Received r) {
        long n = "MESSAGE\n".length() + 1 + r.body().length() + 1;
        for (Map.Entry<String, String> h : r.frame().headers().entries()) {
            n += h.getKey().length() + 1 + h.getValue().length() + 1;
        }
        return n;
    }

    private static List<Long> insert(String owner, int n, String payload) throws Exception {
        List<Long> ids = new ArrayList<>();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO vault_events (event_type, owner, payload)"
                     + " SELECT 'balance_update', ?, ?::jsonb FROM generate_series(1, ?) ORDER BY 1 RETURNING id")) {
            ps.setString(1, owner);
            ps.setString(2, payload);
            ps.setInt(3, n);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
        }
        ids.sort(null);
        ResumeTest.awaitFeedPast(app, ids.getLast());
        return ids;
    }
}
