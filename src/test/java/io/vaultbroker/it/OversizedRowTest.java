package io.vaultbroker.it;

import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A row whose MESSAGE would exceed {@code limits.message-bytes} (finding 7): a 9 MiB payload,
 * over the 8 MiB outbox, between small rows. Subscribers get the oversized notice in its place,
 * in order, and the rows after it; live, in a snapshot, in every replay, and on {@code /ws}.
 * None is cut off as a slow consumer. On a database of its own (9 MiB rows).
 */
class OversizedRowTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int BIG = 9 * 1024 * 1024;

    @Test
    void aNineMebibyteRowIsSentAsTheOversizedNoticeLiveInSnapshotsAndReplays() throws Exception {
        try (ScratchDb db = ScratchDb.create(false)) {
            Application app = TestBroker.start("db.connection.url", db.url);
            List<AutoCloseable> open = new ArrayList<>();
            try {
                String owner = TestBroker.pubkey();
                String token = TestBroker.userToken(owner);
                String tx = "/user/" + owner + "/tx";
                List<StompTestClient> live = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    StompTestClient c = StompTestClient.connect(app.port(), token);
                    open.add(c);
                    c.subscribe("t", tx);
                    live.add(c);
                }
                SeedEndpointTest.JsonClient json = SeedEndpointTest.JsonClient.open(URI.create("ws://127.0.0.1:"
                        + app.port() + "/ws/" + owner + "?access_token=" + token));
                open.add(json);
                json.next(); // welcome

                long before = db.insert("transaction_confirmed", owner, "{\"n\":1}");
                long big = insertBig(db, "transaction_confirmed", owner);
                long after = db.insert("transaction_confirmed", owner, "{\"n\":2}");

                for (StompTestClient c : live) {
                    List<StompTestClient.Received> got = Messages.until(c, after, WAIT);
                    assertEquals(List.of(before, big, after), Messages.rowIds(got));
                    assertNotice(got.get(1), big, "transaction_confirmed");
                    assertTrue(got.get(2).body().contains("\"data\":{\"n\": 2}"), got.get(2).body());
                }
                assertTrue(json.nextRow().endsWith(",\"id\":" + before + "}"));
                String notice = json.nextRow();
                assertTrue(notice.matches("\\{\"event\":\"transaction_confirmed\",\"data\":null,\"oversized\":\\d+,"
                        + "\"timestamp\":\"[^\"]+\",\"id\":" + big + "\\}"), notice);
                assertThat(oversizedOf(notice), greaterThan((long) BIG));
                assertTrue(json.nextRow().endsWith(",\"id\":" + after + "}"));

                ResumeTest.awaitFeedPast(app, after);
                // Every resume from before it gets it the same way, and stays open for live rows.
                List<Long> rows = new ArrayList<>(List.of(before, big, after));
                for (int round = 0; round < 5; round++) {
                    try (StompTestClient c = StompTestClient.connect(app.port(), token)) {
                        ResumeTest.subscribe(c, "t", tx, "x-resume-after", Long.toString(before - 1));
                        long next = db.insert("transaction_confirmed", owner, "{\"round\":" + round + "}");
                        rows.add(next);
                        List<StompTestClient.Received> got = Messages.until(c, next, WAIT);
                        assertEquals(rows, Messages.rowIds(got), "resume " + round + ": replay, then live");
                        assertTrue(got.stream().noneMatch(r -> r.header("x-resume") != null), "no gap notice");
                        assertNotice(got.get(1), big, "transaction_confirmed");
                    }
                }
                try (SeedEndpointTest.JsonClient j = SeedEndpointTest.JsonClient.open(URI.create("ws://127.0.0.1:"
                        + app.port() + "/ws/" + owner + "?access_token=" + token + "&resume_after=" + (before - 1)))) {
                    j.next(); // welcome
                    assertTrue(j.nextRow().endsWith(",\"id\":" + before + "}"));
                    String n = j.nextRow();
                    assertTrue(n.contains("\"data\":null,\"oversized\":") && n.endsWith(",\"id\":" + big + "}"), n);
                    assertTrue(j.nextRow().endsWith(",\"id\":" + after + "}"));
                }

                // The latest balance row is oversized: the snapshot is its notice.
                db.insert("balance_update", owner, "{\"totalBalance\":1}");
                long bigBalance = insertBig(db, "balance_update", owner);
                ResumeTest.awaitFeedPast(app, bigBalance);
                try (StompTestClient c = StompTestClient.connect(app.port(), token)) {
                    c.subscribe("b", "/user/" + owner + "/balance");
                    StompTestClient.Received snap = c.next(WAIT);
                    assertThat(snap.header("x-snapshot"), is("true"));
                    assertNotice(snap, bigBalance, "balance_update");
                }
                assertThat(app.broker().stats().slowConsumers(), is(0L));
                // Live: the tx row, and the balance row (the first /ws session still subscribes to it).
                assertThat("2 live, 5 STOMP and 1 /ws replays, 1 snapshot",
                        app.broker().stats().oversizedMessages(), is(2L + 5 + 1 + 1));
            } finally {
                for (AutoCloseable c : open) {
                    c.close();
                }
                app.stop();
            }
        }
    }

    private static void assertNotice(StompTestClient.Received r, long id, String type) {
        assertThat(r.command(), is(StompCommand.MESSAGE));
        assertThat(r.header("message-id"), is(Long.toString(id)));
        assertThat(r.header("event"), is(type));
        long size = Long.parseLong(r.header("x-oversized"));
        assertThat("the size of the MESSAGE it would have been", size, greaterThan((long) BIG));
        assertTrue(r.body().matches("\\{\"event\":\"" + type + "\",\"data\":null,\"oversized\":" + size
                + ",\"timestamp\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\"\\}"), r.body());
    }

    private static long oversizedOf(String envelope) {
        String tail = envelope.substring(envelope.indexOf("\"oversized\":") + 12);
        return Long.parseLong(tail.substring(0, tail.indexOf(',')));
    }

    private static long insertBig(ScratchDb db, String type, String owner) throws Exception {
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO vault_events (event_type, owner, payload)"
                     + " VALUES (?, ?, jsonb_build_object('pad', repeat('x', ?))) RETURNING id")) {
            ps.setString(1, type);
            ps.setString(2, owner);
            ps.setInt(3, BIG);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
