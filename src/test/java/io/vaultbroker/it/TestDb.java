package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The tests' real PostgreSQL: creates the test database when missing and opens producer connections.
 */
final class TestDb {
    static final String HOST = System.getenv().getOrDefault("PGHOST", "127.0.0.1");
    static final String NAME = "vault_broker_test";
    static final String URL = "jdbc:postgresql://" + HOST + ":5432/" + NAME;

    private TestDb() {
    }

    static synchronized void ensure() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + HOST + ":5432/postgres", "postgres", "");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + NAME + "'")) {
            if (!rs.next()) {
                s.execute("CREATE DATABASE " + NAME);
            }
        }
    }

    static Connection connect() throws SQLException {
        return DriverManager.getConnection(URL, "postgres", "");
    }

    /** Inserts one event in its own transaction; returns its id. */
    static long insert(String type, String owner, String payload) throws SQLException {
        try (Connection c = connect()) {
            return insert(c, type, owner, payload);
        }
    }

    static long insert(Connection c, String type, String owner, String payload) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO vault_events (event_type, owner, payload) VALUES (?, ?, ?::jsonb) RETURNING id")) {
            ps.setString(1, type);
            ps.setString(2, owner);
            ps.setString(3, payload);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
