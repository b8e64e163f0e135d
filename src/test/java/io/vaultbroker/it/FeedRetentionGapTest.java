package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.jobs.Retention;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Issue 9, suspected case: a retention pass deletes a row that sits above a held gap. A producer
 * backfills a row with an old created_at (older than retention.window) while an inserter holds
 * the id below it open, so the feed has not passed it; retention runs; the inserter rolls back.
 * Decided: the row must still be delivered (DESIGN.md §4: every committed row reaches its
 * subscribers), so retention may delete only rows the feed has already passed. On 7272ee4
 * retention deletes it first and it is never delivered. Runs in a database of its own.
 */
class FeedRetentionGapTest {
    @Test
    void retentionDoesNotDeleteARowTheFeedHasNotPassed() throws Exception {
        try (ScratchDb db = ScratchDb.create(false); Connection stuck = db.connect()) {
            // Only the run below: the scheduled one is an hour away.
            Application app = TestBroker.start("db.connection.url", db.url, "feed.max-gap-wait", "PT30S",
                    "retention.interval", "PT1H");
            try (StompTestClient client = StompTestClient.connect(app.port(), TestBroker.adminToken());
                 Connection producer = db.connect()) {
                String owner = TestBroker.pubkey();
                client.subscribe("tx", "/user/" + owner + "/tx");
                stuck.setAutoCommit(false);
                TestDb.insert(stuck, "transaction_confirmed", TestBroker.pubkey(), "{\"stuck\":true}");
                long old;
                try (PreparedStatement ps = producer.prepareStatement("INSERT INTO vault_events"
                        + " (event_type, owner, payload, created_at) VALUES ('transaction_confirmed', ?, '{\"backfill\":true}',"
                        + " '2001-01-01T00:00:00Z') RETURNING id")) {
                    ps.setString(1, owner);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        old = rs.getLong(1);
                    }
                }
                // Precondition: the row waits behind the open inserter (max-gap-wait is 30 s).
                assertThat("delivered while the id below it was held open",
                        Messages.rowIds(client.collectUntil(fs -> !fs.isEmpty(), Duration.ofMillis(500))), empty());

                Retention.Result pass = app.retention().runOnce();
                System.out.printf("retention above a held gap: the pass deleted %d rows (horizon %d); row %d%n",
                        pass.deleted(), pass.horizon(), old);
                stuck.rollback();

                Map<String, List<Long>> expected = Map.of("/user/" + owner + "/tx", List.of(old));
                assertEquals("", DeliveryCheck.problems(expected, DeliveryCheck.collect(client, expected,
                        Duration.ofSeconds(10))), "the backfilled row above the held gap, after a retention pass that deleted "
                        + pass.deleted() + " rows up to id " + pass.horizon());
            } finally {
                app.stop();
            }
        }
    }
}
