package io.vaultbroker.feed;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import io.helidon.dbclient.DbClient;
import io.helidon.dbclient.DbRow;

/**
 * Reads past rows of one destination for snapshots and replays, through the pool.
 * Thread-safe (stateless over a thread-safe DbClient).
 */
public final class EventStore {
    // A created_at of 'infinity' or '-infinity' has no epoch that fits a bigint: such a row
    // carries the time it is read (the database's clock), as the feed does for it live.
    private static final String COLUMNS = "id, event_type, owner, payload::text AS payload,"
            + " floor(extract(epoch FROM CASE WHEN isfinite(created_at) THEN created_at ELSE clock_timestamp() END)"
            + " * 1000)::bigint AS created_ms";

    /**
     * Which rows belong to a destination.
     *
     * @param sql    a boolean SQL condition over {@code vault_events}, with a {@code ?} per parameter
     * @param params the values for those {@code ?}, in order
     */
    public record Filter(String sql, List<Object> params) {
        public Filter {
            params = List.copyOf(params);
        }

        /** Rows matching any of the filters. */
        public static Filter anyOf(List<Filter> filters) {
            if (filters.size() == 1) {
                return filters.getFirst();
            }
            StringBuilder sql = new StringBuilder("(");
            List<Object> params = new ArrayList<>();
            for (Filter f : filters) {
                sql.append(sql.length() > 1 ? " OR (" : "(").append(f.sql()).append(')');
                params.addAll(f.params());
            }
            return new Filter(sql.append(')').toString(), params);
        }
    }

    /**
     * Rows of a replay.
     *
     * @param rows      ascending
     * @param truncated true when older matching rows were left out to respect the bound
     */
    public record Replay(List<EventRow> rows, boolean truncated) {
    }

    private final DbClient db;

    public EventStore(DbClient db) {
        this.db = db;
    }

    /** The newest rows matching the filter with {@code id <= maxId}, newest first, at most {@code limit}. */
    public List<EventRow> latest(Filter f, long maxId, int limit) {
        return query("SELECT " + COLUMNS + " FROM vault_events WHERE " + f.sql() + " AND id <= ? ORDER BY id DESC LIMIT ?",
                f, maxId, limit);
    }

    /** Rows matching the filter in {@code (afterId, upToId]}: the newest {@code limit}, ascending. */
    public Replay between(Filter f, long afterId, long upToId, int limit) {
        List<EventRow> rows = new ArrayList<>(query("SELECT " + COLUMNS + " FROM vault_events WHERE " + f.sql()
                + " AND id > ? AND id <= ? ORDER BY id DESC LIMIT ?", f, afterId, upToId, limit + 1));
        boolean truncated = rows.size() > limit;
        if (truncated) {
            rows.removeLast();
        }
        Collections.reverse(rows);
        return new Replay(rows, truncated);
    }

    /** The oldest id still in the table, or empty when it is empty. */
    public Optional<Long> oldestId() {
        return db.execute().get("SELECT min(id) AS id FROM vault_events")
                .flatMap(r -> Optional.ofNullable(r.column("id").get(Long.class)));
    }

    /** The highest id retention has deleted (0 when none). */
    public long retentionHorizon() {
        return db.execute().get("SELECT value FROM vault_broker_state WHERE key = 'retention_horizon'")
                .map(r -> r.column("value").get(Long.class))
                .orElse(0L);
    }

    private List<EventRow> query(String sql, Filter f, Object... tail) {
        List<Object> params = new ArrayList<>(f.params());
        params.addAll(List.of(tail));
        try (var stream = db.execute().query(sql, params.toArray())) {
            return stream.map(EventStore::row).toList();
        }
    }

    private static EventRow row(DbRow r) {
        return new EventRow(r.column("id").get(Long.class), r.column("event_type").get(String.class),
                r.column("owner").get(String.class), r.column("payload").get(String.class),
                Instant.ofEpochMilli(r.column("created_ms").get(Long.class)), false);
    }
}
