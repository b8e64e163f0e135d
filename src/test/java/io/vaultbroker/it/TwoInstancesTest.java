package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.jobs.Retention;
import io.vaultbroker.jobs.TvlAggregator;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two broker instances on one database (its own, with db/example's vault schema): both deliver
 * every row to their own sessions; TVL and retention run on one instance at a time.
 */
class TwoInstancesTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static ScratchDb db;
    private static Application a;
    private static Application b;

    @BeforeAll
    static void start() throws Exception {
        db = ScratchDb.create(true);
        String[] overrides = {"db.connection.url", db.url, "tvl.enabled", "true", "tvl.interval", "PT0.1S",
            "retention.interval", "PT0.2S", "retention.batch-size", "100", "auth.wallet.purge-interval", "PT0.2S"};
        a = TestBroker.start(overrides);
        b = TestBroker.start(overrides);
    }

    @AfterAll
    static void stop() throws Exception {
        a.stop();
        b.stop();
        db.close();
    }

    @Test
    void bothInstancesDeliverEverythingAndTvlIsWrittenOncePerChange() throws Exception {
        String owner = TestBroker.pubkey();
        try (StompTestClient ua = StompTestClient.connect(a.port(), TestBroker.userToken(owner));
             StompTestClient ub = StompTestClient.connect(b.port(), TestBroker.userToken(owner));
             StompTestClient ta = StompTestClient.connect(a.port(), TestBroker.adminToken());
             StompTestClient tb = StompTestClient.connect(b.port(), TestBroker.adminToken());
             Connection c = db.connect()) {
            ua.subscribe("b", "/user/" + owner + "/balance");
            ub.subscribe("b", "/user/" + owner + "/balance");
            ta.subscribe("t", "/admin/tvl");
            tb.subscribe("t", "/admin/tvl");
            long tvlRowsBefore = db.scalar("SELECT count(*) FROM vault_events WHERE event_type = 'tvl_update'");
            String base = db.text("SELECT coalesce(sum(total_balance), 0) FROM vaults");
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO vaults (owner, total_balance) VALUES ('" + owner + "', 1000)");
                for (int i = 1; i <= 20; i++) {
                    s.execute("UPDATE vaults SET total_balance = total_balance + 1000 WHERE owner = '" + owner + "'");
                }
                s.execute("INSERT INTO positions (id, owner, collateral) VALUES ('p-" + owner + "', '" + owner + "', 500)");
                // A value above 2^53 must arrive digit for digit, as a string.
                s.execute("UPDATE vaults SET total_balance = 90071992547409930000 WHERE owner = '" + owner + "'");
            }
            String big = new java.math.BigDecimal(base).add(new java.math.BigDecimal("90071992547409930000")).toString();
            List<Long> balanceIds = db.ids(owner);
            List<Long> gotA = Messages.rowIds(Messages.until(ua, balanceIds.getLast(), WAIT));
            List<Long> gotB = Messages.rowIds(Messages.until(ub, balanceIds.getLast(), WAIT));
            assertEquals(balanceIds, gotA, "instance A delivers every row");
            assertEquals(balanceIds, gotB, "instance B delivers every row");

            // jsonb prints a space after the colon; the value is a string, being above 2^53.
            String finalTvl = "{\"tvl\": \"" + big + "\"}";
            List<StompTestClient.Received> tvlA = ta.collectUntil(fs -> !fs.isEmpty()
                    && fs.getLast().body().contains(finalTvl), WAIT);
            List<StompTestClient.Received> tvlB = tb.collectUntil(fs -> !fs.isEmpty()
                    && fs.getLast().body().contains(finalTvl), WAIT);
            assertTrue(tvlA.getLast().body().contains(finalTvl), tvlA.getLast().body());
            assertEquals(Messages.rowIds(tvlA).getLast(), Messages.rowIds(tvlB).getLast(),
                    "both instances deliver the same tvl_update row");

            // Written only on change: no two consecutive tvl_update rows carry the same value, and
            // each row was written by exactly one instance.
            List<String> values = new ArrayList<>();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "SELECT payload->>'tvl' FROM vault_events WHERE event_type = 'tvl_update' ORDER BY id")) {
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
            }
            for (int i = 1; i < values.size(); i++) {
                assertTrue(!values.get(i).equals(values.get(i - 1)), "tvl row " + i + " repeats " + values.get(i));
            }
            assertThat(a.tvl().written() + b.tvl().written(), is((long) values.size()));
            System.out.printf("two instances: %d balance rows to each; %d tvl_update rows (A wrote %d, B %d; %d + %d runs"
                            + " found the lock taken) for %d rows before%n", balanceIds.size(), values.size(),
                    a.tvl().written(), b.tvl().written(), a.tvl().busy(), b.tvl().busy(), tvlRowsBefore);
        }
    }

    @Test
    void whileAnotherHoldsTheTvlLockNobodyWritesThenOneDoes() throws Exception {
        String owner = TestBroker.pubkey();
        try (Connection holder = db.connect(); Connection c = db.connect(); Statement s = c.createStatement()) {
            long busyBefore = a.tvl().busy() + b.tvl().busy();
            try (Statement h = holder.createStatement()) {
                h.execute("SELECT pg_advisory_lock(" + TvlAggregator.LOCK_KEY + ")");
            }
            long rowsBefore = db.scalar("SELECT count(*) FROM vault_events WHERE event_type = 'tvl_update'");
            s.execute("INSERT INTO vaults (owner, total_balance) VALUES ('" + owner + "', 777)");
            assertThat(a.tvl().runOnce(), is(TvlAggregator.Outcome.BUSY));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (a.tvl().busy() + b.tvl().busy() < busyBefore + 4) {
                assertTrue(System.nanoTime() < deadline, "the instances did not try");
                Thread.sleep(20);
            }
            assertThat("nothing written while the lock is held elsewhere",
                    db.scalar("SELECT count(*) FROM vault_events WHERE event_type = 'tvl_update'"), is(rowsBefore));
            try (Statement h = holder.createStatement()) {
                h.execute("SELECT pg_advisory_unlock(" + TvlAggregator.LOCK_KEY + ")");
            }
            String total = db.text("SELECT coalesce(sum(total_balance), 0) FROM vaults");
            while (db.scalar("SELECT count(*) FROM vault_events WHERE event_type = 'tvl_update'"
                    + " AND payload->>'tvl' = '" + total + "'") == 0) {
                assertTrue(System.nanoTime() < deadline, "no tvl_update after the lock was released");
                Thread.sleep(20);
            }
            assertThat(db.scalar("SELECT count(*) FROM vault_events WHERE event_type = 'tvl_update' AND id > "
                    + "(SELECT coalesce(max(id), 0) FROM vault_events WHERE owner = '" + owner + "')"), is(1L));
        }
    }

    @Test
    void retentionDeletesOldRowsOnceRecordsTheHorizonAndResumeBeforeItGetsTheGapNotice() throws Exception {
        String owner = TestBroker.pubkey();
        List<Long> old = new ArrayList<>();
        try (Connection holder = db.connect(); Connection c = db.connect()) {
            try (Statement h = holder.createStatement()) {
                h.execute("SELECT pg_advisory_lock(" + Retention.LOCK_KEY + ")");
            }
            long deletedBefore = a.retention().deleted() + b.retention().deleted();
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO vault_events (event_type, owner, payload, created_at)"
                    + " SELECT 'transaction_confirmed', ?, jsonb_build_object('n', g), now() - interval '8 days'"
                    + " FROM generate_series(1, 450) g RETURNING id")) {
                ps.setString(1, owner);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        old.add(rs.getLong(1));
                    }
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO vault_broker_signatures VALUES ('sig-" + owner + "', now() - interval '1 minute')");
            }
            old.sort(null);
            long fresh = db.insert("transaction_confirmed", owner, "{\"fresh\":true}");
            assertThat("a run finds the lock taken", a.retention().runOnce().busy(), is(true));
            assertThat("nothing deleted while the lock is held elsewhere",
                    db.scalar("SELECT count(*) FROM vault_events WHERE owner = '" + owner + "'"), is(451L));
            try (Statement h = holder.createStatement()) {
                h.execute("SELECT pg_advisory_unlock(" + Retention.LOCK_KEY + ")");
            }
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (db.scalar("SELECT count(*) FROM vault_events WHERE owner = '" + owner + "'") > 1) {
                assertTrue(System.nanoTime() < deadline, "retention did not delete the old rows");
                Thread.sleep(20);
            }
            assertThat(db.ids(owner), is(List.of(fresh)));
            assertThat("each row deleted by exactly one instance",
                    a.retention().deleted() + b.retention().deleted() - deletedBefore, is(450L));
            assertThat(db.scalar("SELECT value FROM vault_broker_state WHERE key = 'retention_horizon'"),
                    is(old.getLast()));
            while (db.scalar("SELECT count(*) FROM vault_broker_signatures WHERE signature = 'sig-" + owner + "'") > 0) {
                assertTrue(System.nanoTime() < deadline, "expired signature not purged");
                Thread.sleep(20);
            }
            System.out.printf("retention: 450 rows deleted (A %d, B %d in all), horizon %d%n",
                    a.retention().deleted(), b.retention().deleted(), old.getLast());
        }
        // A client whose last id is older than the horizon is told it missed rows.
        try (StompTestClient c = StompTestClient.connect(b.port(), TestBroker.userToken(owner))) {
            ResumeTest.subscribe(c, "tx", "/user/" + owner + "/tx", "x-resume-after", Long.toString(old.get(10)));
            StompTestClient.Received gap = c.next(WAIT);
            assertThat(gap.header("x-resume"), is("gap"));
            assertThat(gap.header("event"), is("resume_gap"));
            List<Long> rest = Messages.rowIds(Messages.until(c, db.ids(owner).getLast(), WAIT));
            assertThat(rest.size(), greaterThan(0));
            assertEquals(db.ids(owner), rest);
        }
    }
}
