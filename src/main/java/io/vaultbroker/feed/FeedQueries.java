package io.vaultbroker.feed;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The statements the feed sends on its own connection, prepared once per connection.
 * Confined to the feed thread.
 */
final class FeedQueries implements ChangeTable {
    // A created_at that is not a finite time (infinity) is sent as the time the feed read it.
    private static final String COLUMNS = "id, event_type, owner, payload::text,"
            + " CASE WHEN isfinite(created_at) THEN created_at ELSE clock_timestamp() END";
    private static final String SETTLED_KEY = "feed_settled_through";

    private final Connection c;
    private final FeedStats stats;
    private final PreparedStatement after;
    private final PreparedStatement inRanges;
    private final PreparedStatement holders;
    private final PreparedStatement sequenceValue;

    FeedQueries(Connection c, FeedStats stats, SchemaCheck.Table table) throws SQLException {
        this.c = c;
        this.stats = stats;
        this.after = c.prepareStatement("SELECT " + COLUMNS + " FROM vault_events WHERE id > ? ORDER BY id LIMIT ?");
        // One index range scan per range: OFFSET 0 keeps the planner from flattening the
        // lateral subquery into a join that scans the whole table once per range.
        this.inRanges = c.prepareStatement("SELECT x.* FROM unnest(?::bigint[], ?::bigint[]) AS r(lo, hi)"
                + " CROSS JOIN LATERAL (SELECT " + COLUMNS + " FROM vault_events v"
                + " WHERE v.id BETWEEN r.lo AND r.hi OFFSET 0) x ORDER BY x.id");
        // Every inserter holds RowExclusiveLock on the table until it ends, and so does every
        // caller of nextval() on its identity sequence (an id drawn before the INSERT): the lock
        // is taken before the id is drawn, so these holders include whoever may still commit one.
        this.holders = c.prepareStatement("SELECT DISTINCT virtualtransaction FROM pg_locks"
                + " WHERE locktype = 'relation' AND relation IN (" + table.relationOid() + ", " + table.sequenceOid() + ")"
                + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                + " AND mode = 'RowExclusiveLock' AND pid IS DISTINCT FROM pg_backend_pid()");
        this.sequenceValue = c.prepareStatement("SELECT coalesce(pg_sequence_last_value(" + table.sequenceOid() + "::oid::regclass), 0)");
    }

    /** The highest id in the table (0 when empty). */
    long head() throws SQLException {
        stats.queries.incrementAndGet();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT coalesce(max(id), 0) FROM vault_events")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The identity sequence's last drawn value (0 before the first, e.g. after RESTART IDENTITY). */
    long sequenceValue() throws SQLException {
        stats.queries.incrementAndGet();
        try (ResultSet rs = sequenceValue.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Ids in {@code (from, to]} with no row: those some transaction may still commit, among the
     * rolled-back and deleted ones. One index scan that returns only the gaps.
     */
    List<IdRange> missing(long from, long to) throws SQLException {
        List<IdRange> ranges = new ArrayList<>();
        if (to <= from) {
            return ranges;
        }
        stats.queries.addAndGet(2);
        try (PreparedStatement ps = c.prepareStatement("SELECT min(id) FROM vault_events WHERE id > ? AND id <= ?")) {
            ps.setLong(1, from);
            ps.setLong(2, to);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long first = rs.getLong(1);
                if (rs.wasNull()) {
                    ranges.add(new IdRange(from + 1, to));
                    return ranges;
                }
                if (first > from + 1) {
                    ranges.add(new IdRange(from + 1, first - 1));
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT id + 1, nxt - 1 FROM (SELECT id, lead(id) OVER (ORDER BY id) AS nxt"
                + " FROM vault_events WHERE id > ? AND id <= ?) g WHERE nxt > id + 1 ORDER BY id")) {
            ps.setLong(1, from);
            ps.setLong(2, to);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ranges.add(new IdRange(rs.getLong(1), rs.getLong(2)));
                }
            }
        }
        return ranges;
    }

    /** The highest id any feed found settled for good (0 when none said so). */
    long settledThrough() throws SQLException {
        stats.queries.incrementAndGet();
        try (PreparedStatement ps = c.prepareStatement("SELECT value FROM vault_broker_state WHERE key = ?")) {
            ps.setString(1, SETTLED_KEY);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /** Records that every id up to this one is settled; instances only ever raise it, a reset lowers it. */
    void saveSettledThrough(long id, boolean reset) throws SQLException {
        stats.queries.incrementAndGet();
        String sql = reset
                ? "INSERT INTO vault_broker_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                : "INSERT INTO vault_broker_state (key, value) VALUES (?, ?)"
                + " ON CONFLICT (key) DO UPDATE SET value = greatest(vault_broker_state.value, excluded.value)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, SETTLED_KEY);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
    }

    @Override
    public List<EventRow> after(long cursor, int limit) throws SQLException {
        stats.queries.incrementAndGet();
        after.setLong(1, cursor);
        after.setInt(2, limit);
        return rows(after);
    }

    @Override
    public List<EventRow> inRanges(List<IdRange> ranges) throws SQLException {
        stats.queries.incrementAndGet();
        Long[] lo = new Long[ranges.size()];
        Long[] hi = new Long[ranges.size()];
        for (int i = 0; i < ranges.size(); i++) {
            lo[i] = ranges.get(i).from();
            hi[i] = ranges.get(i).to();
        }
        Array a = c.createArrayOf("bigint", lo);
        Array b = c.createArrayOf("bigint", hi);
        inRanges.setArray(1, a);
        inRanges.setArray(2, b);
        return rows(inRanges);
    }

    @Override
    public Set<String> holders() throws SQLException {
        stats.queries.incrementAndGet();
        stats.lockReads.incrementAndGet();
        Set<String> out = new HashSet<>();
        try (ResultSet rs = holders.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static List<EventRow> rows(PreparedStatement ps) throws SQLException {
        List<EventRow> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Timestamp t = rs.getTimestamp(5);
                out.add(new EventRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        t == null ? Instant.now() : t.toInstant(), false));
            }
        }
        return out;
    }
}
