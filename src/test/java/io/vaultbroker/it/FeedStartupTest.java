package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 9, findings 4 and 5, and the suspected partition case: what the feed's gap rule relies on
 * is checked at start (identity with CACHE 1, table not partitioned; DESIGN.md §3), a reset
 * identity is followed, and an id drawn before start is delivered however many rows committed
 * after it. Each test runs in a database of its own.
 */
class FeedStartupTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    /**
     * Finding 5: an id drawn before start and held open while 20,001 rows commit (one
     * transaction each), committed after start, is delivered. On 7272ee4 start-scan-window
     * (10,000 ids) loses it.
     */
    @Test
    void anIdHeldOpenAcross20001CommitsBeforeStartIsDelivered() throws Exception {
        try (ScratchDb db = ScratchDb.create(false); Connection held = db.connect()) {
            String owner = TestBroker.pubkey();
            held.setAutoCommit(false);
            long heldId = TestDb.insert(held, "transaction_confirmed", owner, "{\"held\":true}");
            try (Connection c = db.connect()) {
                try (Statement s = c.createStatement()) {
                    // Many tiny commits: none needs to be durable for this test.
                    s.execute("SET synchronous_commit = off");
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO vault_events (event_type, owner, payload)"
                        + " VALUES ('transaction_confirmed', 'bulk', '{}')")) {
                    for (int i = 0; i < 20_001; i++) {
                        ps.executeUpdate();
                    }
                }
            }
            Application app = TestBroker.start("db.connection.url", db.url);
            try (StompTestClient client = StompTestClient.connect(app.port(), TestBroker.adminToken())) {
                client.subscribe("tx", "/user/" + owner + "/tx");
                held.commit();
                Map<String, List<Long>> expected = Map.of("/user/" + owner + "/tx", List.of(heldId));
                assertEquals("", DeliveryCheck.problems(expected, DeliveryCheck.collect(client, expected, WAIT)),
                        "the row drawn before start, 20,001 commits before the head, committed after start");
            } finally {
                app.stop();
            }
        }
    }

    /**
     * Finding 4: ids from a sequence with CACHE 20 arrive out of order across backends and would
     * be skipped as rolled back; the broker refuses to start and says what to change. With the
     * fix applied (CACHE 1) it starts: both sides of the check.
     */
    @Test
    void anIdentityWithCache20IsRefusedAtStartWithTheFix() throws Exception {
        try (ScratchDb db = ScratchDb.create(false)) {
            try (Connection c = db.connect(); Statement s = c.createStatement()) {
                s.execute("ALTER TABLE vault_events ALTER COLUMN id SET CACHE 20");
            }
            String message = refusal(db, "vault_events.id's identity has CACHE 20");
            assertThat("the refusal names the fix", message.toUpperCase(Locale.ROOT), containsString("CACHE 1"));

            try (Connection c = db.connect(); Statement s = c.createStatement()) {
                s.execute("ALTER TABLE vault_events ALTER COLUMN id SET CACHE 1");
            }
            TestBroker.start("db.connection.url", db.url).stop();
        }
    }

    /**
     * Suspected in issue 9: an insert straight into a partition locks only the partition, so the
     * lock-holder witness misses it. A partitioned vault_events (made by hand, migrations then
     * applied by the broker) is refused at start, with a message that says so.
     */
    @Test
    void aPartitionedVaultEventsIsRefusedAtStart() throws Exception {
        try (ScratchDb db = ScratchDb.createEmpty()) {
            try (Connection c = db.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE vault_events (id bigint GENERATED ALWAYS AS IDENTITY, event_type text NOT NULL,"
                        + " owner text, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
                        + " PRIMARY KEY (id)) PARTITION BY RANGE (id)");
                s.execute("CREATE TABLE vault_events_all PARTITION OF vault_events FOR VALUES FROM (MINVALUE) TO (MAXVALUE)");
            }
            String message = refusal(db, "vault_events is partitioned");
            assertThat("the refusal says what is wrong", message.toLowerCase(Locale.ROOT), containsString("partition"));
        }
    }

    /**
     * Finding 4: after TRUNCATE ... RESTART IDENTITY the table's head is below the feed's cursor;
     * rows inserted afterwards are delivered, to a session that saw rows before the reset and to
     * one that did not. On 7272ee4 they never are.
     */
    @Test
    void rowsInsertedAfterTruncateRestartIdentityAreDelivered() throws Exception {
        try (ScratchDb db = ScratchDb.create(false)) {
            Application app = TestBroker.start("db.connection.url", db.url);
            try (StompTestClient client = StompTestClient.connect(app.port(), TestBroker.adminToken())) {
                String before = TestBroker.pubkey();
                String after = TestBroker.pubkey();
                client.subscribe("a", "/user/" + before + "/tx");
                client.subscribe("b", "/user/" + after + "/tx");
                Map<String, List<Long>> first = new HashMap<>();
                for (int i = 0; i < 5; i++) {
                    first.computeIfAbsent("/user/" + before + "/tx", k -> new ArrayList<>())
                            .add(db.insert("transaction_confirmed", before, "{\"before\":" + i + "}"));
                }
                assertEquals("", DeliveryCheck.problems(first, DeliveryCheck.collect(client, first, WAIT)),
                        "rows before the reset");

                try (Connection c = db.connect(); Statement s = c.createStatement()) {
                    s.execute("TRUNCATE vault_events RESTART IDENTITY");
                }
                Map<String, List<Long>> second = new HashMap<>();
                second.put("/user/" + before + "/tx", List.of(db.insert("transaction_confirmed", before, "{\"reset\":1}")));
                second.put("/user/" + after + "/tx", List.of(db.insert("transaction_confirmed", after, "{\"reset\":2}"),
                        db.insert("transaction_confirmed", after, "{\"reset\":3}")));
                assertEquals("", DeliveryCheck.problems(second, DeliveryCheck.collect(client, second, WAIT)),
                        "rows inserted after TRUNCATE vault_events RESTART IDENTITY (ids " + second + ")");
            } finally {
                app.stop();
            }
        }
    }

    // Starts the broker on db, expecting a refusal; returns its message.
    private static String refusal(ScratchDb db, String why) throws Exception {
        Application app;
        try {
            app = TestBroker.start("db.connection.url", db.url);
        } catch (Application.StartupException e) {
            System.out.println("start refused (" + why + "): " + e.getMessage());
            return e.getMessage();
        }
        app.stop();
        fail("the broker started although " + why);
        return null;
    }
}
