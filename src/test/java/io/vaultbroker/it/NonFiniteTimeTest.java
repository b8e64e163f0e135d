package io.vaultbroker.it;

import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A row whose {@code created_at} is {@code infinity} or {@code -infinity} (finding 3): it stops
 * no other row, live, in a snapshot or in a replay, and carries a finite ISO time, the time it
 * was read. On a database of its own: such rows would reach other tests' brokers.
 */
class NonFiniteTimeTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Pattern TS = Pattern.compile("\"timestamp\":\"(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z)\"");

    @Test
    void infiniteTimesStopNoRowAndReadAsTheTimeTheyWereRead() throws Exception {
        try (ScratchDb db = ScratchDb.create(false)) {
            Application app = TestBroker.start("db.connection.url", db.url);
            List<AutoCloseable> open = new ArrayList<>();
            try {
                List<String> owners = List.of(TestBroker.pubkey(), TestBroker.pubkey(), TestBroker.pubkey());
                Map<String, List<StompTestClient>> subscribers = new LinkedHashMap<>();
                for (String o : owners) {
                    List<StompTestClient> cs = new ArrayList<>();
                    for (int i = 0; i < 2; i++) {
                        StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(o));
                        open.add(c);
                        c.subscribe("b", "/user/" + o + "/balance");
                        cs.add(c);
                    }
                    subscribers.put(o, cs);
                }
                SeedEndpointTest.JsonClient json = SeedEndpointTest.JsonClient.open(URI.create("ws://127.0.0.1:"
                        + app.port() + "/ws/" + owners.getFirst() + "?access_token=" + TestBroker.userToken(owners.getFirst())));
                open.add(json);
                json.next(); // welcome

                // One transaction, so one batch of the feed: the first owner's last row is at
                // +infinity, the second owner's middle row at -infinity, among everyone's rows.
                Map<String, List<Long>> ids = new LinkedHashMap<>();
                owners.forEach(o -> ids.put(o, new ArrayList<>()));
                long infinite;
                long negative = -1;
                try (Connection c = db.connect()) {
                    c.setAutoCommit(false);
                    for (int i = 0; i < 5; i++) {
                        for (int k = 0; k < owners.size(); k++) {
                            String at = k == 1 && i == 2 ? "-infinity" : null;
                            long id = insert(c, owners.get(k), i, at);
                            ids.get(owners.get(k)).add(id);
                            if (at != null) {
                                negative = id;
                            }
                        }
                    }
                    infinite = insert(c, owners.getFirst(), 5, "infinity");
                    ids.get(owners.getFirst()).add(infinite);
                    c.commit();
                }
                Instant committed = Instant.now();

                for (String o : owners) {
                    List<Long> expected = ids.get(o);
                    for (StompTestClient c : subscribers.get(o)) {
                        List<StompTestClient.Received> got = Messages.until(c, expected.getLast(), WAIT);
                        assertEquals(expected, Messages.rowIds(got), "every row of " + o + ", in order");
                        got.forEach(r -> assertNearly(committed, timestamp(r.body())));
                    }
                }
                List<String> viaJson = new ArrayList<>();
                while (viaJson.size() < ids.get(owners.getFirst()).size()) {
                    viaJson.add(json.nextRow());
                }
                assertTrue(viaJson.getLast().endsWith(",\"id\":" + infinite + "}"), viaJson.getLast());
                viaJson.forEach(m -> assertNearly(committed, timestamp(m)));

                ResumeTest.awaitFeedPast(app, infinite);
                // The snapshot of the first owner is the +infinity row.
                try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(owners.getFirst()))) {
                    c.subscribe("b", "/user/" + owners.getFirst() + "/balance");
                    StompTestClient.Received snap = c.next(WAIT);
                    assertThat(snap.command(), is(StompCommand.MESSAGE));
                    assertThat(snap.header("x-snapshot"), is("true"));
                    assertThat(snap.header("message-id"), is(Long.toString(infinite)));
                    assertNearly(committed, timestamp(snap.body()));
                }
                // Replays through both rows, from before the first row of each owner.
                for (String o : owners.subList(0, 2)) {
                    List<Long> expected = ids.get(o);
                    try (StompTestClient c = StompTestClient.connect(app.port(), TestBroker.userToken(o))) {
                        ResumeTest.subscribe(c, "b", "/user/" + o + "/balance", "x-resume-after",
                                Long.toString(expected.getFirst() - 1));
                        List<StompTestClient.Received> got = Messages.until(c, expected.getLast(), WAIT);
                        assertEquals(expected, Messages.rowIds(got), "the replay of " + o);
                        assertTrue(got.stream().noneMatch(r -> r.header("x-resume") != null), "no gap notice");
                        got.forEach(r -> assertNearly(committed, timestamp(r.body())));
                    }
                }
                assertTrue(ids.get(owners.get(1)).contains(negative));
                assertThat(app.broker().stats().deliveryFailures(), is(0L));
            } finally {
                for (AutoCloseable c : open) {
                    c.close();
                }
                app.stop();
            }
        }
    }

    private static long insert(Connection c, String owner, int n, String createdAt) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO vault_events (event_type, owner, payload, created_at)"
                + " VALUES ('balance_update', ?, ?::jsonb, coalesce(?::timestamptz, now())) RETURNING id")) {
            ps.setString(1, owner);
            ps.setString(2, "{\"n\":" + n + "}");
            ps.setString(3, createdAt);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static Instant timestamp(String message) {
        Matcher m = TS.matcher(message);
        assertTrue(m.find(), "no finite ISO timestamp in " + message);
        return Instant.parse(m.group(1));
    }

    // Finite rows were written at the commit, infinite ones read a moment later: all near it.
    private static void assertNearly(Instant expected, Instant actual) {
        assertTrue(Duration.between(expected, actual).abs().compareTo(Duration.ofMinutes(2)) < 0,
                actual + " is not near " + expected);
    }
}
