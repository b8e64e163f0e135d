package io.vaultbroker.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import io.helidon.config.Config;
import io.helidon.dbclient.DbClientException;
import io.helidon.dbclient.jdbc.CloseableJdbcConnectionPool;
import io.helidon.dbclient.jdbc.JdbcConnectionPool;
import io.helidon.dbclient.jdbc.spi.JdbcConnectionPoolProvider;

/**
 * Gives Helidon's DbClient a HikariCP pool; Helidon 4.5.0's own Hikari module is not served here.
 * Registered in {@code META-INF/services}. Reads {@code db.connection}: url, username, password,
 * pool-size, connection-timeout.
 */
public final class HikariPoolProvider implements JdbcConnectionPoolProvider {
    /** Required by the service loader. */
    public HikariPoolProvider() {
    }

    @Override
    public String configKey() {
        return "hikari";
    }

    @Override
    public JdbcConnectionPool create(Config config, String name) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("vault-broker-" + name);
        hc.setJdbcUrl(config.get("url").asString().orElseThrow(() -> new DbClientException("db.connection.url is not set")));
        config.get("username").asString().ifPresent(hc::setUsername);
        config.get("password").asString().ifPresent(hc::setPassword);
        hc.setMaximumPoolSize(config.get("pool-size").asInt().orElse(8));
        hc.setMinimumIdle(1);
        hc.setConnectionTimeout(config.get("connection-timeout").as(Duration.class).orElse(Duration.ofSeconds(5)).toMillis());
        hc.addDataSourceProperty("ApplicationName", "vault-broker");
        // Start without a connection: a database that is down at start must not stop the broker
        // from starting to report itself degraded.
        hc.setInitializationFailTimeout(-1);
        return new Pool(new HikariDataSource(hc), name);
    }

    /** Thread-safe (HikariCP). */
    private record Pool(HikariDataSource ds, String name) implements CloseableJdbcConnectionPool {
        @Override
        public Connection connection() {
            try {
                return ds.getConnection();
            } catch (SQLException e) {
                throw new DbClientException("no database connection: " + e.getMessage(), e);
            }
        }

        @Override
        public String dbType() {
            return "postgresql";
        }

        @Override
        public void close() {
            ds.close();
        }
    }
}
