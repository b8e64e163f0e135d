package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The broker feed's backends seen from an admin connection (pg_stat_activity), for the black-box
 * fault tests of issue 9: kill the feed while a given statement runs, and tell when it is idle.
 * The feed's connections carry application_name 'vault-broker-feed' (DESIGN.md contract).
 * Not shared between threads.
 */
final class FeedBackend {
    static final String APPLICATION_NAME = "vault-broker-feed";
    /** The read past the cursor. */
    static final String READ_PAST_CURSOR = "WHERE id >";
    /** The read of watched (given-up or pre-start) id ranges. */
    static final String READ_RANGES = "unnest(";
    /** The lock-holder read, the witness of DESIGN.md §4. */
    static final String LOCK_HOLDERS = "pg_locks";

    private FeedBackend() {
    }

    /**
     * Terminates the feed's backend of {@code db} at a moment pg_stat_activity shows it running a
     * statement containing {@code fragment}. The look and the kill run in a loop inside the
     * server (a few microseconds a look, no sleeping; a statement of the feed lasts a fraction of
     * a millisecond), so the signal lands while that statement runs. Returns the query text it
     * was running; fails when the moment never came.
     */
    static String terminateDuring(ScratchDb db, String fragment, Duration timeout) throws SQLException {
        try (Connection c = ScratchDb.admin()) {
            try (Statement s = c.createStatement()) {
                // pg_stat_activity is a snapshot per transaction: each look clears it first.
                s.execute("CREATE FUNCTION pg_temp.vb_kill_during(db text, app text, fragment text, ms int) RETURNS text"
                        + " LANGUAGE plpgsql AS $$"
                        + " DECLARE victim int; running text; deadline timestamptz := clock_timestamp() + ms * interval '1 ms';"
                        + " BEGIN LOOP"
                        + "  PERFORM pg_stat_clear_snapshot();"
                        + "  SELECT pid, query INTO victim, running FROM pg_stat_activity WHERE datname = db"
                        + "   AND application_name = app AND pid <> pg_backend_pid() AND state = 'active'"
                        + "   AND strpos(query, fragment) > 0 LIMIT 1;"
                        + "  IF victim IS NOT NULL THEN PERFORM pg_terminate_backend(victim); RETURN running; END IF;"
                        + "  IF clock_timestamp() > deadline THEN RETURN NULL; END IF;"
                        + " END LOOP; END $$");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_temp.vb_kill_during(?, ?, ?, ?)")) {
                ps.setString(1, db.name);
                ps.setString(2, APPLICATION_NAME);
                ps.setString(3, fragment);
                ps.setInt(4, (int) timeout.toMillis());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    String running = rs.getString(1);
                    if (running == null) {
                        throw new AssertionError("the feed was never seen running a statement with '" + fragment
                                + "' within " + timeout);
                    }
                    return running;
                }
            }
        }
    }

    /** Waits until the feed has a backend again (after a kill it reconnects). */
    static void awaitConnected(ScratchDb db, Duration timeout) throws Exception {
        await(() -> count(db, "true") > 0, timeout, "the feed did not reconnect");
    }

    /**
     * Waits until every feed backend has been idle (no statement) for at least {@code quiet}: the
     * feed is asleep, waiting for a wake-up or its next poll.
     */
    static void awaitIdle(ScratchDb db, Duration quiet, Duration timeout) throws Exception {
        String idle = "state = 'idle' AND state_change < now() - interval '" + quiet.toMillis() + " milliseconds'";
        await(() -> {
            long all = count(db, "true");
            return all > 0 && count(db, idle) == all;
        }, timeout, "the feed never stayed idle for " + quiet);
    }

    /** The feed's backends' current queries, for failure messages. */
    static List<String> activity(ScratchDb db) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = ScratchDb.admin();
             PreparedStatement ps = c.prepareStatement("SELECT state || ' ' || (now() - state_change) || ' ' || query"
                     + " FROM pg_stat_activity WHERE datname = ? AND application_name = ?")) {
            ps.setString(1, db.name);
            ps.setString(2, APPLICATION_NAME);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private static long count(ScratchDb db, String condition) {
        try (Connection c = ScratchDb.admin();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                     + " WHERE datname = ? AND application_name = ? AND (" + condition + ")")) {
            ps.setString(1, db.name);
            ps.setString(2, APPLICATION_NAME);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Polls the condition (every few ms) until it holds; fails with the message at the deadline. */
    static void await(BooleanSupplier condition, Duration timeout, String message) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(message + " within " + timeout);
            }
            Thread.sleep(5);
        }
    }
}
