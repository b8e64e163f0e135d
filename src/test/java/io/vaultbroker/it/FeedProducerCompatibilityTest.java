package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 9, finding 2: producers that worked before migration V2 must keep working (DESIGN.md §3):
 * a role with only INSERT on vault_events, another search_path, REPEATABLE READ, two-phase commit.
 * On 7272ee4 the V2 trigger reads vault_broker_feeds unqualified with the producer's privileges and
 * snapshot, and may NOTIFY. Each test runs in a database of its own.
 */
class FeedProducerCompatibilityTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** Finding 2: a role granted only INSERT on vault_events (and USAGE on public) can produce. */
    @Test
    void aProducerWithOnlyInsertGrantedIsDelivered() throws Exception {
        String role = "vb_insert_only_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        try (Connection a = ScratchDb.admin(); Statement s = a.createStatement()) {
            s.execute("CREATE ROLE " + role + " LOGIN");
        }
        try {
            try (ScratchDb db = ScratchDb.create(false)) {
                try (Connection c = db.connect(); Statement s = c.createStatement()) {
                    s.execute("GRANT USAGE ON SCHEMA public TO " + role);
                    s.execute("GRANT INSERT ON vault_events TO " + role);
                }
                Application app = TestBroker.start("db.connection.url", db.url);
                try (StompTestClient client = StompTestClient.connect(app.port(), TestBroker.adminToken());
                     Connection producer = DriverManager.getConnection(db.url, role, "")) {
                    String owner = TestBroker.pubkey();
                    client.subscribe("tx", "/user/" + owner + "/tx");
                    String marker = UUID.randomUUID().toString();
                    // No RETURNING: that would need SELECT, which this producer does not have.
                    insertOrFail(producer, "INSERT INTO vault_events (event_type, owner, payload) VALUES"
                            + " ('transaction_confirmed', ?, jsonb_build_object('marker', ?::text))", owner, marker,
                            "an INSERT-only producer's insert");
                    awaitBody(client, marker, WAIT);
                } finally {
                    app.stop();
                }
            }
        } finally {
            try (Connection a = ScratchDb.admin(); Statement s = a.createStatement()) {
                s.execute("DROP ROLE IF EXISTS " + role);
            }
        }
    }

    /** Finding 2: a producer whose search_path does not include public inserts into public.vault_events. */
    @Test
    void aProducerWithAnotherSearchPathIsDelivered() throws Exception {
        try (ScratchDb db = ScratchDb.create(false)) {
            try (Connection c = db.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE SCHEMA other_schema");
            }
            Application app = TestBroker.start("db.connection.url", db.url);
            try (StompTestClient client = StompTestClient.connect(app.port(), TestBroker.adminToken());
                 Connection producer = db.connect()) {
                String owner = TestBroker.pubkey();
                client.subscribe("tx", "/user/" + owner + "/tx");
                try (Statement s = producer.createStatement()) {
                    s.execute("SET search_path = other_schema");
                }
                String marker = UUID.randomUUID().toString();
                insertOrFail(producer, "INSERT INTO public.vault_events (event_type, owner, payload) VALUES"
                        + " ('transaction_confirmed', ?, jsonb_build_object('marker', ?::text))", owner, marker,
                        "an insert with search_path = other_schema");
                awaitBody(client, marker, WAIT);
            } finally {
                app.stop();
            }
        }
    }

    /**
     * Finding 2: a REPEATABLE READ producer whose snapshot was taken while the feed was awake
     * commits after the feed fell asleep; its row must not wait for the fallback poll
     * (poll-interval 5 s here): delivered within 100 ms of the commit. On 7272ee4 the trigger
     * reads "no feed asleep" through the old snapshot and does not notify.
     */
    @Test
    void aRepeatableReadProducerWhoseSnapshotPredatesTheSleepIsDeliveredAtOnce() throws Exception {
        try (ScratchDb db = ScratchDb.create(false)) {
            Application app = TestBroker.start("db.connection.url", db.url, "feed.poll-interval", "PT5S");
            ExecutorService pool = Executors.newSingleThreadExecutor();
            AtomicBoolean flowing = new AtomicBoolean(true);
            AtomicLong flowed = new AtomicLong();
            try (StompTestClient client = StompTestClient.connect(app.port(), TestBroker.adminToken());
                 Connection rr = db.connect()) {
                String owner = TestBroker.pubkey();
                client.subscribe("tx", "/user/" + owner + "/tx");
                String flowOwner = TestBroker.pubkey();
                // Rows flow, so the feed is awake when the snapshot is taken.
                Future<?> flow = pool.submit(() -> {
                    try (Connection c = db.connect()) {
                        while (flowing.get()) {
                            TestDb.insert(c, "transaction_confirmed", flowOwner, "{\"flow\":" + flowed.incrementAndGet() + "}");
                            Thread.sleep(10);
                        }
                    }
                    return null;
                });
                FeedBackend.await(() -> flowed.get() >= 30, WAIT, "the flow of rows did not start");
                rr.setAutoCommit(false);
                rr.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                try (Statement s = rr.createStatement(); ResultSet rs = s.executeQuery("SELECT 1 FROM vault_events LIMIT 1")) {
                    rs.next();
                }
                flowing.set(false);
                flow.get(10, TimeUnit.SECONDS);
                // Asleep: no statement from the feed for a while, well below its 5 s fallback poll.
                FeedBackend.awaitIdle(db, Duration.ofMillis(500), Duration.ofSeconds(15));

                long id = TestDb.insert(rr, "transaction_confirmed", owner, "{\"rr\":true}");
                rr.commit();
                long committed = System.nanoTime();
                StompTestClient.Received r = awaitRow(client, id, WAIT);
                long ms = (r.nanos() - committed) / 1_000_000;
                System.out.printf("REPEATABLE READ producer: delivered %d ms after its commit%n", ms);
                assertThat("ms from the REPEATABLE READ producer's commit to delivery (feed asleep, poll-interval 5 s)",
                        ms, lessThanOrEqualTo(100L));
            } finally {
                flowing.set(false);
                pool.shutdownNow();
                app.stop();
            }
        }
    }

    /**
     * Finding 2: with feed.wake=poll, a two-phase-commit producer can PREPARE while the broker
     * is idle (a transaction that ran NOTIFY cannot), and its row is delivered within
     * poll-interval + 1 s of COMMIT PREPARED. On 7272ee4 PREPARE fails while the feed sleeps.
     */
    @Test
    void aTwoPhaseCommitProducerWorksWithPollWake() throws Exception {
        Duration pollInterval = Duration.ofSeconds(1);
        try (ScratchDb db = ScratchDb.create(false)) {
            assertThat("max_prepared_transactions (scripts/test.sh sets it: ensure_prepared_transactions)",
                    db.scalar("SELECT current_setting('max_prepared_transactions')::int"), greaterThan(0L));
            Application app = TestBroker.start("db.connection.url", db.url, "feed.wake", "poll",
                    "feed.poll-interval", pollInterval.toString());
            String gid = "vb_2pc_" + db.name;
            try (StompTestClient client = StompTestClient.connect(app.port(), TestBroker.adminToken())) {
                String owner = TestBroker.pubkey();
                client.subscribe("tx", "/user/" + owner + "/tx");
                FeedBackend.awaitIdle(db, Duration.ofMillis(400), Duration.ofSeconds(15));

                long id;
                try (Connection c = db.connect()) {
                    c.setAutoCommit(false);
                    id = TestDb.insert(c, "transaction_confirmed", owner, "{\"twoPhase\":true}");
                    try (Statement s = c.createStatement()) {
                        s.execute("PREPARE TRANSACTION '" + gid + "'");
                    } catch (SQLException e) {
                        fail("PREPARE TRANSACTION failed while the broker was idle (feed.wake=poll): " + e.getMessage());
                    }
                }
                long committed;
                try (Connection c = db.connect(); Statement s = c.createStatement()) {
                    s.execute("COMMIT PREPARED '" + gid + "'");
                    committed = System.nanoTime();
                }
                StompTestClient.Received r = awaitRow(client, id, WAIT);
                long ms = (r.nanos() - committed) / 1_000_000;
                System.out.printf("two-phase commit producer: delivered %d ms after COMMIT PREPARED%n", ms);
                assertThat("ms from COMMIT PREPARED to delivery (poll-interval " + pollInterval + ")", ms,
                        lessThanOrEqualTo(pollInterval.toMillis() + 1000));
            } finally {
                app.stop();
                // A prepared transaction outlives its connection and would keep the database from being dropped.
                try (Connection c = db.connect(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT 1 FROM pg_prepared_xacts WHERE gid = '" + gid + "'")) {
                    if (rs.next()) {
                        s.execute("ROLLBACK PREPARED '" + gid + "'");
                    }
                }
            }
        }
    }

    private static void insertOrFail(Connection c, String sql, String owner, String marker, String what) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, owner);
            ps.setString(2, marker);
            ps.executeUpdate();
        } catch (SQLException e) {
            fail(what + " failed: " + e.getMessage());
        }
    }

    private static void awaitBody(StompTestClient c, String marker, Duration timeout) throws InterruptedException {
        var frames = c.collectUntil(fs -> !fs.isEmpty() && fs.getLast().command() == StompCommand.MESSAGE
                && fs.getLast().body().contains(marker), timeout);
        if (frames.isEmpty() || !frames.getLast().body().contains(marker)) {
            fail("the committed row was not delivered within " + timeout);
        }
    }

    private static StompTestClient.Received awaitRow(StompTestClient c, long id, Duration timeout)
            throws InterruptedException {
        var frames = Messages.until(c, id, timeout);
        for (StompTestClient.Received r : frames) {
            if (String.valueOf(id).equals(r.header("message-id"))) {
                return r;
            }
        }
        throw new AssertionError("row " + id + " was not delivered within " + timeout);
    }
}
