package io.vaultbroker;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.dbclient.DbClient;
import io.helidon.webserver.WebServer;

import io.vaultbroker.auth.Authenticator;
import io.vaultbroker.auth.Authenticators;
import io.vaultbroker.auth.TokenMinter;
import io.vaultbroker.broker.Broker;
import io.vaultbroker.broker.BrokerSettings;
import io.vaultbroker.broker.SessionBudgets;
import io.vaultbroker.db.DbSignatureLedger;
import io.vaultbroker.db.Migrations;
import io.vaultbroker.feed.EventStore;
import io.vaultbroker.feed.Feed;
import io.vaultbroker.feed.SchemaCheck;
import io.vaultbroker.jobs.Retention;
import io.vaultbroker.jobs.TvlAggregator;
import io.vaultbroker.stomp.StompLimits;
import io.vaultbroker.web.Dashboard;
import io.vaultbroker.web.HttpParseFailures;
import io.vaultbroker.web.Observability;
import io.vaultbroker.web.WebWiring;

/**
 * The running broker: every part built and wired here, in code, in start-up order.
 * Threading: built on the starting thread; {@link #stop()} runs once, on any thread.
 */
public final class Application {
    private static final System.Logger LOG = System.getLogger(Application.class.getName());
    /** The pubkey the dev profile mints a demo token for (the seed document's example owner). */
    public static final String DEMO_PUBKEY = "HjxQC5jmM8JQrKmVLz29fvaVU428BQ3NzM7a3uQECt9m";

    /** Start-up failed for a reason the operator can fix; the message says how. */
    public static final class StartupException extends Exception {
        StartupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final WebServer server;
    private final Broker broker;
    private final Feed feed;
    private final DbClient db;
    private final Observability observability;
    private final WebWiring web;
    private final Duration retrySpread;
    private final Duration drain;
    private final Jobs jobs;
    private volatile boolean stopped;

    /** The background jobs (TVL, retention) and their one scheduler thread. */
    private record Jobs(java.util.concurrent.ScheduledExecutorService scheduler, TvlAggregator tvl, Retention retention) {
    }

    private Application(WebServer server, Broker broker, Feed feed, DbClient db, Observability observability,
                        WebWiring web, Duration retrySpread, Duration drain, Jobs jobs) {
        this.server = server;
        this.web = web;
        this.broker = broker;
        this.feed = feed;
        this.db = db;
        this.observability = observability;
        this.retrySpread = retrySpread;
        this.drain = drain;
        this.jobs = jobs;
    }

    /** Builds and starts everything; returns once the server listens and the feed has its position. */
    public static Application start(Config config) throws StartupException {
        String version = version();
        Dashboard dashboard;
        try {
            dashboard = new Dashboard(config.get("dashboard.broker-urls").asList(String.class).orElse(List.of()));
        } catch (IllegalArgumentException e) {
            throw new StartupException(e.getMessage(), e);
        }
        Config dbConfig = config.get("db");
        String url = dbConfig.get("connection.url").asString().orElse("jdbc:postgresql://127.0.0.1:5432/vault_broker");
        String user = dbConfig.get("connection.username").asString().orElse("postgres");
        String password = dbConfig.get("connection.password").asString().orElse("");

        if (dbConfig.get("migrate").asBoolean().orElse(true)) {
            migrate(url, user, password, dbConfig.get("startup-timeout").as(Duration.class).orElse(Duration.ofSeconds(30)));
        }
        verifySchema(url, user, password);
        DbClient db = DbClient.create(dbConfig);

        DevTokens devTokens = DevTokens.create(config.get("auth"));
        Config authConfig = devTokens == null ? config.get("auth") : devTokens.apply(config.get("auth"));
        Authenticator authenticator;
        DbSignatureLedger ledger = new DbSignatureLedger(db);
        try {
            authenticator = Authenticators.create(authConfig, ledger, java.time.Clock.systemUTC());
        } catch (IllegalStateException e) {
            throw new StartupException(e.getMessage(), e);
        }

        BrokerSettings settings = brokerSettings(config, version);
        Broker broker = new Broker(settings, sessionBudgets(config.get("limits")), authenticator, new EventStore(db));
        Jobs jobs = jobs(config, db);

        Config feedConfig = config.get("feed");
        Feed feed = new Feed(new Feed.Settings(url, user, password,
                feedConfig.get("poll-interval").as(Duration.class).orElse(Duration.ofSeconds(5)),
                feedConfig.get("batch-size").asInt().orElse(1000),
                feedConfig.get("max-gap-wait").as(Duration.class).orElse(Duration.ofSeconds(30)),
                feedConfig.get("lag-threshold").as(Duration.class).orElse(Duration.ofSeconds(5)),
                wake(feedConfig.get("wake").asString().orElse("listen"))),
                jobs.tvl() == null ? broker.router() : jobs.tvl().watching(broker.router()));
        feed.start();
        try {
            if (!feed.awaitStarted(Duration.ofSeconds(30))) {
                feed.stop();
                throw new StartupException("the feed could not read vault_events within 30 s; check db.connection.url", null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StartupException("interrupted while starting", e);
        }
        broker.start();
        if (jobs.tvl() != null) {
            jobs.tvl().start(jobs.scheduler());
        }
        if (jobs.retention() != null) {
            jobs.retention().start(jobs.scheduler());
        }
        // Used wallet signatures are forgotten on their own schedule, whether or not retention runs.
        ledger.start(jobs.scheduler(),
                config.get("auth.wallet.purge-interval").as(Duration.class).orElse(Duration.ofMinutes(1)));
        // Connections dropped mid-request: counted, and one log line a minute instead of a stack trace each.
        HttpParseFailures.install().start(jobs.scheduler(), Duration.ofMinutes(1));

        Config limits = config.get("limits");
        WebWiring web;
        try {
            web = new WebWiring(broker, webBudgets(config, settings));
        } catch (IllegalArgumentException | IllegalStateException e) {
            jobs.scheduler().shutdownNow();
            broker.shutdown(Duration.ZERO, Duration.ZERO);
            feed.stop();
            db.close();
            throw new StartupException(e.getMessage()
                    + (e instanceof IllegalArgumentException ? " (env LIMITS_TRUSTED_PROXIES_0, _1, ...)" : ""), e);
        }
        // /observe/health (database and feed readiness) and /observe/metrics (the broker's meters).
        Observability observability = new Observability(broker, feed, db, web, config.get("server.features.observe"),
                config.get("health.db-timeout").as(Duration.class).orElse(Duration.ofSeconds(2)));
        warnIfWildcardOrigin(config.get("server.protocols.websocket.origins"));
        WebServer server;
        try {
            server = web.build(WebServer.builder()
                    .config(config.get("server"))
                    // Main's hook calls stop(), which tells sessions before the server stops; Helidon's
                    // own hook would run concurrently and drop the connections first.
                    .shutdownHook(false)
                    .addFeature(observability.feature())
                    // Security headers on every HTTP response, and the dashboard's list of brokers.
                    .routing(dashboard::routing)
                    .addRouting(web.wsRouting()))
                    .start();
        } catch (IllegalStateException e) {
            jobs.scheduler().shutdownNow();
            broker.shutdown(Duration.ZERO, Duration.ZERO);
            web.close();
            feed.stop();
            db.close();
            throw new StartupException(e.getMessage(), e);
        }
        if (!server.isRunning() || server.port() < 0) {
            web.close();
            jobs.scheduler().shutdownNow();
            broker.shutdown(Duration.ZERO, Duration.ZERO);
            feed.stop();
            db.close();
            throw new StartupException("the server could not listen on " + config.get("server.host").asString().orElse("0.0.0.0")
                    + ":" + config.get("server.port").asInt().orElse(8080)
                    + " (is another process using the port? set SERVER_PORT to choose another)", null);
        }
        LOG.log(System.Logger.Level.INFO, "vault-broker " + version + " listening on " + (server.hasTls() ? "wss" : "ws") + "://localhost:" + server.port() + "/stomp");
        if (devTokens != null) {
            devTokens.print(server.port());
        }
        Config shutdown = config.get("shutdown");
        return new Application(server, broker, feed, db, observability, web,
                shutdown.get("retry-spread").as(Duration.class).orElse(Duration.ofSeconds(30)),
                shutdown.get("drain").as(Duration.class).orElse(Duration.ofSeconds(5)), jobs);
    }

    private static Jobs jobs(Config config, DbClient db) {
        Config tvl = config.get("tvl");
        TvlAggregator aggregator = null;
        if (tvl.get("enabled").asBoolean().orElse(false)) {
            aggregator = new TvlAggregator(db, new TvlAggregator.Settings(true,
                    tvl.get("query").asString().orElse("SELECT coalesce(sum(total_balance), 0) AS tvl FROM vaults"),
                    tvl.get("interval").as(Duration.class).orElse(Duration.ofSeconds(1))));
        }
        Config ret = config.get("retention");
        Retention retention = null;
        if (ret.get("enabled").asBoolean().orElse(true)) {
            retention = new Retention(db, new Retention.Settings(true,
                    ret.get("window").as(Duration.class).orElse(Duration.ofDays(7)),
                    ret.get("batch-size").asInt().orElse(1000),
                    ret.get("interval").as(Duration.class).orElse(Duration.ofMinutes(1))));
        }
        return new Jobs(java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("vault-broker-jobs").daemon(true).factory()), aggregator, retention);
    }

    /** The TVL aggregator, or null when {@code tvl.enabled} is false. */
    public TvlAggregator tvl() {
        return jobs.tvl();
    }

    /** Retention, or null when {@code retention.enabled} is false. */
    public Retention retention() {
        return jobs.retention();
    }

    /** The port the server listens on. */
    public int port() {
        return server.port();
    }

    /** The broker, for tests and metrics. */
    public Broker broker() {
        return broker;
    }

    /** The feed, for tests and metrics. */
    public Feed feed() {
        return feed;
    }

    /** Graceful stop: tell sessions, let their last writes out, then close everything. */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        LOG.log(System.Logger.Level.INFO, "vault-broker shutting down");
        jobs.scheduler().shutdownNow();
        broker.shutdown(retrySpread, drain);
        server.stop();
        web.close();
        observability.close();
        feed.stop();
        db.close();
    }

    private static void migrate(String url, String user, String password, Duration timeout) throws StartupException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Connection c = DriverManager.getConnection(url, user, password)) {
                Migrations.apply(c);
                return;
            } catch (SQLException e) {
                if (System.nanoTime() > deadline) {
                    throw new StartupException("cannot apply migrations to " + url + ": " + e.getMessage()
                            + " (set DB_CONNECTION_URL, DB_CONNECTION_USERNAME, DB_CONNECTION_PASSWORD;"
                            + " or DB_MIGRATE=false when a DBA applies db/migrations)", e);
                }
                LOG.log(System.Logger.Level.WARNING, "database not ready (" + e.getMessage() + "); retrying");
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new StartupException("interrupted while waiting for the database", ie);
                }
            }
        }
    }

    // What the feed's gap rule relies on (DESIGN §3): refuse to start rather than lose rows.
    private static void verifySchema(String url, String user, String password) throws StartupException {
        try (Connection c = DriverManager.getConnection(url, user, password)) {
            SchemaCheck.verify(c);
        } catch (SchemaCheck.Unsound e) {
            throw new StartupException(e.getMessage(), e);
        } catch (SQLException e) {
            throw new StartupException("cannot inspect vault_events at " + url + ": " + e.getMessage()
                    + " (with db.migrate: false, apply db/migrations first)", e);
        }
    }

    private static Feed.Wake wake(String value) throws StartupException {
        return switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "listen" -> Feed.Wake.LISTEN;
            case "poll" -> Feed.Wake.POLL;
            default -> throw new StartupException("feed.wake must be listen or poll, not '" + value + "'", null);
        };
    }

    /** The dev profile's generated secret and the demo tokens minted with it. */
    private record DevTokens(String secret, String user, String admin) {
        // The dev profile has no secret to configure: make one, and tokens to try the broker with.
        static DevTokens create(Config auth) {
            if (!auth.get("dev-tokens").asBoolean().orElse(false)) {
                return null;
            }
            String secret = auth.get("jwt.secret").asString().filter(s -> !s.isBlank())
                    .orElseGet(() -> new String(TokenMinter.randomSecret(), StandardCharsets.US_ASCII));
            TokenMinter minter = new TokenMinter(secret.getBytes(StandardCharsets.UTF_8));
            return new DevTokens(secret, minter.mint(DEMO_PUBKEY, Set.of(), Duration.ofHours(12)),
                    minter.mint("admin", Set.of("admin"), Duration.ofHours(12)));
        }

        Config apply(Config auth) {
            return Config.just(ConfigSources.create(Map.of("jwt.secret", secret)), ConfigSources.create(auth.detach()));
        }

        void print(int port) {
            // Each command below works when pasted as is into a shell, even where the default java is older.
            String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String lines = String.join("\n",
                    "",
                    "── vault-broker is running (dev profile: a new secret and new tokens each start) ──",
                    "STOMP endpoint: ws://localhost:" + port + "/stomp    dashboard: http://localhost:" + port + "/",
                    "Demo user " + DEMO_PUBKEY + ", token (12 h):",
                    "  " + user,
                    "Admin token (12 h):",
                    "  " + admin,
                    "Watch the demo user's balance from another terminal:",
                    "  " + javaBin + " -cp target/vault-broker.jar io.vaultbroker.cli.Cli --url ws://localhost:" + port + "/stomp"
                            + " --token " + user + " --subscribe /user/" + DEMO_PUBKEY + "/balance",
                    "then write an event, as a producer would:",
                    "  psql -h 127.0.0.1 -U postgres vault_broker -c \"INSERT INTO vault_events (event_type, owner, payload)"
                            + " VALUES ('balance_update', '" + DEMO_PUBKEY + "', '{\\\"totalBalance\\\": 100}')\"",
                    "");
            System.out.println(lines);
        }
    }

    // Helidon 4.5 matches Origin against this list literally (Set.contains), so "*" is no wildcard.
    private static void warnIfWildcardOrigin(Config origins) {
        if (origins.asList(String.class).orElse(List.of()).contains("*")) {
            LOG.log(System.Logger.Level.WARNING, "server.protocols.websocket.origins contains \"*\", which does NOT"
                    + " allow every origin: Helidon compares origins literally, so browsers from any origin not listed"
                    + " get 403 at the upgrade (clients without an Origin header still pass). List each allowed origin"
                    + " instead, e.g. SERVER_PROTOCOLS_WEBSOCKET_ORIGINS_0=https://app.example.com"
                    + " SERVER_PROTOCOLS_WEBSOCKET_ORIGINS_1=https://admin.example.com");
        }
    }

    private static SessionBudgets sessionBudgets(Config limits) {
        SessionBudgets d = SessionBudgets.defaults();
        return new SessionBudgets(limits.get("outbox-max-age").as(Duration.class).orElse(d.outboxMaxAge()),
                SessionBudgets.heapShare(limits.get("outbox-total-heap-percent").asInt().orElse(SessionBudgets.DEFAULT_HEAP_PERCENT)),
                limits.get("client-frame-rate").asInt().orElse(d.frameRate()),
                limits.get("client-frame-burst").asInt().orElse(d.frameBurst()),
                limits.get("catch-up-rate").asInt().orElse(d.catchUpRate()),
                limits.get("client-byte-rate").asInt().orElse(d.byteRate()),
                limits.get("client-byte-burst").asInt().orElse(d.byteBurst()));
    }

    private static WebWiring.Budgets webBudgets(Config config, BrokerSettings settings) {
        Config limits = config.get("limits");
        // The pool's connections and the feed's two are kept out of the connection budget.
        int reserve = limits.get("open-files-reserve").asInt().orElse(64)
                + config.get("db.connection.pool-size").asInt().orElse(8) + 2;
        return new WebWiring.Budgets(limits.get("tcp-connections").asInt().orElse(0), reserve,
                limits.get("connections-per-address").asInt().orElse(128),
                limits.get("connections-total").asInt().orElse(50_000),
                limits.get("request-head-timeout").as(Duration.class).orElse(Duration.ofSeconds(10)),
                limits.get("unauthenticated-memory").asLong().orElse(64L * 1024 * 1024),
                settings.stompLimits().maxFrameBytes(),
                limits.get("trusted-proxies").asList(String.class).orElse(List.of()),
                config.get("server.enable-proxy-protocol").asBoolean().orElse(false));
    }

    private static BrokerSettings brokerSettings(Config config, String version) {
        BrokerSettings d = BrokerSettings.defaults(version);
        Config stomp = config.get("stomp");
        Config limits = config.get("limits");
        Config replay = config.get("replay");
        return new BrokerSettings(version,
                new StompLimits(stomp.get("max-frame-bytes").asInt().orElse(d.stompLimits().maxFrameBytes()),
                        stomp.get("max-headers").asInt().orElse(d.stompLimits().maxHeaders()),
                        stomp.get("max-header-line-bytes").asInt().orElse(d.stompLimits().maxHeaderLineBytes())),
                stomp.get("connect-timeout").as(Duration.class).orElse(d.connectTimeout()),
                stomp.get("heartbeat-ms").asInt().orElse(d.heartbeatMs()),
                stomp.get("heartbeat-grace").as(Duration.class).orElse(d.heartbeatGrace()),
                limits.get("subscriptions-per-session").asInt().orElse(d.maxSubscriptionsPerSession()),
                limits.get("sessions-per-subject").asInt().orElse(d.maxSessionsPerSubject()),
                limits.get("sessions-per-address").asInt().orElse(d.maxSessionsPerAddress()),
                limits.get("session-lifetime").as(Duration.class).orElse(d.sessionLifetime()),
                limits.get("outbox-frames").asInt().orElse(d.outboxFrames()),
                limits.get("outbox-bytes").asLong().orElse(d.outboxBytes()),
                replay.get("limit").asInt().orElse(d.replayLimit()),
                replay.get("concurrency").asInt().orElse(d.replayConcurrency()),
                limits.get("message-bytes").asInt().orElse(d.messageBytes()));
    }

    private static String version() {
        String v = Application.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
