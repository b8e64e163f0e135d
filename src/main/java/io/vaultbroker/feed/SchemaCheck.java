package io.vaultbroker.feed;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Checks what the gap rule relies on (DESIGN §3): ids come from the table's own identity sequence
 * with {@code CACHE 1}, and inserts lock {@code vault_events} itself (no partitions, no inheritance
 * children). Stateless; any thread.
 */
public final class SchemaCheck {
    /** The change table does not satisfy the gap rule's assumptions; the message says what to change. */
    public static final class Unsound extends Exception {
        Unsound(String message) {
            super(message);
        }
    }

    /** The table's and its identity sequence's OIDs, as the lock witness needs them. */
    record Table(long relationOid, long sequenceOid) {
    }

    private SchemaCheck() {
    }

    /** Throws {@link Unsound} with the fix when the feed could lose rows on this schema. */
    public static void verify(Connection c) throws SQLException, Unsound {
        inspect(c);
    }

    static Table inspect(Connection c) throws SQLException, Unsound {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT t.oid, t.relkind, t.relhassubclass OR EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = t.oid),"
                        + " pg_get_serial_sequence('vault_events', 'id')::regclass::oid, q.seqcache"
                        + " FROM pg_class t"
                        + " LEFT JOIN pg_sequence q ON q.seqrelid = pg_get_serial_sequence('vault_events', 'id')::regclass"
                        + " WHERE t.oid = 'vault_events'::regclass")) {
            rs.next();
            long oid = rs.getLong(1);
            String kind = rs.getString(2);
            boolean inherits = rs.getBoolean(3);
            long seq = rs.getLong(4);
            boolean noSequence = rs.wasNull();
            long cache = rs.getLong(5);
            if ("p".equals(kind) || inherits) {
                throw new Unsound("vault_events is partitioned or takes part in inheritance: an insert into a partition"
                        + " does not lock vault_events, so the feed cannot tell which ids may still commit."
                        + " Use a plain table (db/migrations/V1__vault_events.sql).");
            }
            if (noSequence) {
                throw new Unsound("vault_events.id has no identity sequence: ids must come from"
                        + " 'id bigint GENERATED ALWAYS AS IDENTITY' (db/migrations/V1__vault_events.sql).");
            }
            if (cache != 1) {
                throw new Unsound("the identity sequence of vault_events.id has CACHE " + cache
                        + ": cached ids commit out of the order they are drawn across sessions, and the feed would skip"
                        + " them as rolled back. Run: ALTER TABLE vault_events ALTER COLUMN id SET CACHE 1");
            }
            return new Table(oid, seq);
        }
    }
}
