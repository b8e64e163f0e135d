package io.vaultbroker.db;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import javax.sql.DataSource;

/**
 * Applies the SQL files of {@code db/migrations} (packaged on the classpath) in order, once each,
 * under a transaction-scoped advisory lock so instances starting together do not race.
 * Stateless; safe to call from any thread.
 */
public final class Migrations {
    private static final System.Logger LOG = System.getLogger(Migrations.class.getName());
    // Any constant shared by all instances; "vault-br" in ASCII.
    private static final long LOCK_KEY = 0x7661756c742d6272L;
    static final List<String> FILES = List.of("V1__vault_events.sql", "V2__quiet_notify.sql", "V3__wake_lock.sql");

    private Migrations() {
    }

    /** Brings the schema up to date; returns how many migrations were applied now. */
    public static int apply(Connection c) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")");
                s.execute("CREATE TABLE IF NOT EXISTS vault_broker_migrations ("
                        + "version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
            }
            int applied = 0;
            for (String file : FILES) {
                if (isApplied(c, file)) {
                    continue;
                }
                try (Statement s = c.createStatement()) {
                    s.execute(read(file));
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO vault_broker_migrations (version) VALUES (?)")) {
                    ps.setString(1, file);
                    ps.executeUpdate();
                }
                LOG.log(System.Logger.Level.INFO, "applied migration " + file);
                applied++;
            }
            c.commit();
            return applied;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** As {@link #apply(Connection)}, on a connection of the data source. */
    public static int apply(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            return apply(c);
        }
    }

    private static boolean isApplied(Connection c, String file) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM vault_broker_migrations WHERE version = ?")) {
            ps.setString(1, file);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static String read(String file) {
        try (InputStream in = Migrations.class.getResourceAsStream("/db/migrations/" + file)) {
            if (in == null) {
                throw new IllegalStateException("migration " + file + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read migration " + file, e);
        }
    }
}
