package io.vaultbroker.it;

import java.sql.Connection;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A row that commits after the feed gave up waiting for it reaches every session subscribed to
 * its destination, marked {@code x-late:true} — including sessions that resumed past its id
 * (finding 6). On a database of its own: a held insert would hold other tests' feeds.
 */
class LateRowResumeTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void aLateRowReachesSessionsThatResumedPastIt() throws Exception {
        try (ScratchDb db = ScratchDb.create(false)) {
            Application app = TestBroker.start("db.connection.url", db.url, "feed.max-gap-wait", "PT1S");
            try (Connection slow = db.connect()) {
                String owner = TestBroker.pubkey();
                String token = TestBroker.userToken(owner);
                String dest = "/user/" + owner + "/tx";
                long first = db.insert("transaction_confirmed", owner, "{\"n\":0}");
                slow.setAutoCommit(false);
                long held = TestDb.insert(slow, "transaction_confirmed", owner, "{\"late\":true}");
                long after = db.insert("transaction_confirmed", owner, "{\"n\":2}");
                // The feed gives the gap up after max-gap-wait and moves past both.
                ResumeTest.awaitFeedPast(app, after);
                try (StompTestClient pastBoth = StompTestClient.connect(app.port(), token);
                     StompTestClient atHeld = StompTestClient.connect(app.port(), token);
                     StompTestClient plain = StompTestClient.connect(app.port(), token);
                     StompTestClient before = StompTestClient.connect(app.port(), token)) {
                    pastBoth.subscribe("t", dest, "x-resume-after", Long.toString(after));
                    atHeld.subscribe("t", dest, "x-resume-after", Long.toString(held));
                    plain.subscribe("t", dest);
                    before.subscribe("t", dest, "x-resume-after", Long.toString(first));
                    // The replays are done once their rows are in.
                    assertEquals(List.of(after), Messages.rowIds(Messages.until(atHeld, after, WAIT)));
                    assertEquals(List.of(after), Messages.rowIds(Messages.until(before, after, WAIT)),
                            "the held id is not replayed while it may still commit");
                    slow.commit();
                    for (StompTestClient c : List.of(pastBoth, atHeld, plain, before)) {
                        List<StompTestClient.Received> got = Messages.until(c, held, WAIT);
                        assertEquals(List.of(held), Messages.rowIds(got), "the late row");
                        assertThat(got.getLast().header("x-late"), is("true"));
                    }
                    long next = db.insert("transaction_confirmed", owner, "{\"n\":3}");
                    for (StompTestClient c : List.of(pastBoth, atHeld, plain, before)) {
                        assertEquals(List.of(next), Messages.rowIds(Messages.until(c, next, WAIT)));
                    }
                    assertTrue(held < after);
                }
            } finally {
                app.stop();
            }
        }
    }
}
