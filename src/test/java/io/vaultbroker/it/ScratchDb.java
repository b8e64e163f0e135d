package io.vaultbroker.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import io.vaultbroker.db.Migrations;

/**
 * A database of this test's own, for what must not touch the shared test database: killing
 * backends, refusing connections, retention, TVL over the example schema. Dropped on close.
 */
final class ScratchDb implements AutoCloseable {
    private static final String ADMIN_URL = "jdbc:postgresql://" + TestDb.HOST + ":5432/postgres";
    final String name;
    final String url;

    private ScratchDb(String name) {
        this.name = name;
        this.url = "jdbc:postgresql://" + TestDb.HOST + ":5432/" + name;
    }

    /** Creates the database with the broker's schema and, when asked, db/example's vault schema. */
    static ScratchDb create(boolean exampleSchema) throws Exception {
        ScratchDb db = new ScratchDb("vb_resil_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12));
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db.name);
        }
        try (Connection c = db.connect()) {
            Migrations.apply(c);
            if (exampleSchema) {
                try (Statement s = c.createStatement()) {
                    s.execute(Files.readString(Path.of("db/example/01_vault_schema.sql")));
                    s.execute(Files.readString(Path.of("db/example/02_vault_triggers.sql")));
                }
            }
        }
        return db;
    }

    /** Creates an empty database: no migrations, for a test that builds its own vault_events. */
    static ScratchDb createEmpty() throws Exception {
        ScratchDb db = new ScratchDb("vb_resil_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12));
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db.name);
        }
        return db;
    }

    static Connection admin() throws SQLException {
        return DriverManager.getConnection(ADMIN_URL, "postgres", "");
    }

    Connection connect() throws SQLException {
        return DriverManager.getConnection(url, "postgres", "");
    }

    long insert(String type, String owner, String payload) throws SQLException {
        try (Connection c = connect()) {
            return TestDb.insert(c, type, owner, payload);
        }
    }

    /** Ids of one owner's rows, ascending: the truth to compare deliveries with. */
    List<Long> ids(String owner) throws SQLException {
        List<Long> out = new ArrayList<>();
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM vault_events WHERE owner = '" + owner + "' ORDER BY id")) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    long scalar(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    String text(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** Terminates this database's backends with one of the given application names; returns how many. */
    int terminate(String... applicationNames) throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                     + " WHERE datname = '" + name + "' AND pid <> pg_backend_pid() AND application_name IN ('"
                     + String.join("','", applicationNames) + "')")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Terminates every backend of this database. */
    void terminateAll() throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name
                    + "' AND pid <> pg_backend_pid()");
        }
    }

    void allowConnections(boolean allow) throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS " + allow);
        }
    }

    @Override
    public void close() throws SQLException {
        allowConnections(true);
        terminateAll();
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }
}
