package io.vaultbroker.feed;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The statements the feed sends on its own connection, prepared once per connection.
 * Confined to the feed thread.
 */
final class FeedQueries {
    private static final String COLUMNS = "id, event_type, owner, payload::text, created_at";

    private final Connection c;
    private final FeedStats stats;
    private final PreparedStatement after;
    private final PreparedStatement inRanges;
    private final PreparedStatement holders;
    private final PreparedStatement flag;

    FeedQueries(Connection c, FeedStats stats) throws SQLException {
        this.c = c;
        this.stats = stats;
        this.after = c.prepareStatement("SELECT " + COLUMNS + " FROM vault_events WHERE id > ? ORDER BY id LIMIT ?");
        // One index range scan per range: OFFSET 0 keeps the planner from flattening the
        // lateral subquery into a join that scans the whole table once per range.
        this.inRanges = c.prepareStatement("SELECT x.* FROM unnest(?::bigint[], ?::bigint[]) AS r(lo, hi)"
                + " CROSS JOIN LATERAL (SELECT " + COLUMNS + " FROM vault_events v"
                + " WHERE v.id BETWEEN r.lo AND r.hi OFFSET 0) x ORDER BY x.id");
        // Every transaction that inserted into the table holds this lock until it ends.
        this.holders = c.prepareStatement("SELECT virtualtransaction FROM pg_locks"
                + " WHERE locktype = 'relation' AND relation = 'vault_events'::regclass"
                + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                + " AND mode = 'RowExclusiveLock' AND pid IS DISTINCT FROM pg_backend_pid()");
        this.flag = c.prepareStatement("INSERT INTO vault_broker_feeds (instance, asleep, seen_at) VALUES (?, ?, now())"
                + " ON CONFLICT (instance) DO UPDATE SET asleep = excluded.asleep, seen_at = now()");
    }

    /** Enters this feed in vault_broker_feeds (awake), forgetting rows of long-dead instances. */
    void register(String instance) throws SQLException {
        stats.queries.addAndGet(2);
        try (Statement s = c.createStatement()) {
            s.execute("DELETE FROM vault_broker_feeds WHERE seen_at < now() - interval '1 day'");
        }
        flag(instance, false);
    }

    /** Raises or lowers this feed's asleep flag (and refreshes its seen_at). */
    void flag(String instance, boolean asleep) throws SQLException {
        stats.queries.incrementAndGet();
        flag.setString(1, instance);
        flag.setBoolean(2, asleep);
        flag.executeUpdate();
    }

    /** Removes this feed's row (at stop). */
    void unregister(String instance) throws SQLException {
        stats.queries.incrementAndGet();
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM vault_broker_feeds WHERE instance = ?")) {
            ps.setString(1, instance);
            ps.executeUpdate();
        }
    }

    long head() throws SQLException {
        stats.queries.incrementAndGet();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT coalesce(max(id), 0) FROM vault_events")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    List<IdRange> missing(long from, long to) throws SQLException {
        stats.queries.incrementAndGet();
        List<IdRange> ranges = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT g FROM generate_series(?::bigint, ?::bigint) g"
                + " WHERE NOT EXISTS (SELECT 1 FROM vault_events e WHERE e.id = g) ORDER BY g")) {
            ps.setLong(1, from);
            ps.setLong(2, to);
            try (ResultSet rs = ps.executeQuery()) {
                long lo = -1;
                long hi = -1;
                while (rs.next()) {
                    long id = rs.getLong(1);
                    if (lo >= 0 && id == hi + 1) {
                        hi = id;
                    } else {
                        if (lo >= 0) {
                            ranges.add(new IdRange(lo, hi));
                        }
                        lo = id;
                        hi = id;
                    }
                }
                if (lo >= 0) {
                    ranges.add(new IdRange(lo, hi));
                }
            }
        }
        return ranges;
    }

    List<EventRow> after(long cursor, int limit) throws SQLException {
        stats.queries.incrementAndGet();
        after.setLong(1, cursor);
        after.setInt(2, limit);
        return rows(after);
    }

    List<EventRow> inRanges(List<IdRange> ranges) throws SQLException {
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

    Set<String> holders() throws SQLException {
        stats.queries.incrementAndGet();
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
                out.add(new EventRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getObject(5, OffsetDateTime.class).toInstant(), false));
            }
        }
        return out;
    }
}
