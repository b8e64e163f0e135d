package io.vaultbroker.web;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

import io.helidon.config.Config;
import io.helidon.dbclient.DbClient;
import io.helidon.health.HealthCheck;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.helidon.metrics.api.FunctionalCounter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Meter;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Metrics;
import io.helidon.metrics.api.Tag;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;

import io.vaultbroker.broker.Broker;
import io.vaultbroker.broker.BrokerStats;
import io.vaultbroker.broker.Destination;
import io.vaultbroker.feed.Feed;
import io.vaultbroker.feed.FeedStats;
import io.vaultbroker.feed.FeedStatus;
import io.vaultbroker.feed.OutOfMemory;

/**
 * {@code /observe/health} and {@code /observe/metrics}: the broker's health checks and meters,
 * registered explicitly with Helidon's health and metrics observers.
 *
 * <p>Meters read the broker's and the feed's own counters when scraped; nothing is counted twice.
 * They live in Helidon's global registry, so one broker per JVM owns them: {@link #close()}
 * removes them again (tests start several brokers one after another).
 *
 * <p>Threading: health checks and gauges run on request threads and only read thread-safe
 * counters; meters for new tag values are registered on whichever thread first counts them.
 */
public final class Observability implements AutoCloseable {
    static final String PREFIX = "vault_broker_";

    private final Broker broker;
    private final Feed feed;
    private final DbClient db;
    private final WebWiring web;
    private final Duration dbTimeout;
    private final MeterRegistry registry = Metrics.globalRegistry();
    private final List<Meter> meters = new CopyOnWriteArrayList<>();
    private final ExecutorService probes = Executors.newVirtualThreadPerTaskExecutor();
    private final ObserveFeature feature;
    private volatile boolean closed;

    /**
     * @param observe   the {@code server.features.observe} configuration (endpoint, sockets, details)
     * @param dbTimeout how long the readiness check waits for {@code SELECT 1}
     */
    public Observability(Broker broker, Feed feed, DbClient db, WebWiring web, Config observe, Duration dbTimeout) {
        this.broker = broker;
        this.feed = feed;
        this.db = db;
        this.web = web;
        this.dbTimeout = dbTimeout;
        registerMeters();
        Config health = observe.get("observers.health");
        HealthObserver healthObserver = HealthObserver.builder()
                .config(health)
                .details(health.get("details").asBoolean().orElse(true))
                .addCheck(liveness())
                .addCheck(database())
                .addCheck(feedCheck())
                .build();
        this.feature = ObserveFeature.builder()
                .config(observe)
                .observersDiscoverServices(false)
                .addObserver(healthObserver)
                .addObserver(MetricsObserver.create(observe.get("observers.metrics")))
                .build();
    }

    /** The feature to add to the WebServer builder. */
    public ObserveFeature feature() {
        return feature;
    }

    @Override
    public void close() {
        closed = true;
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
        probes.shutdownNow();
    }

    // ---- health

    private HealthCheck liveness() {
        return check("broker", HealthCheckType.LIVENESS, () -> HealthCheckResponse.builder()
                .status(true)
                .detail("sessions", broker.stats().sessions())
                .build());
    }

    private HealthCheck database() {
        return check("database", HealthCheckType.READINESS, () -> {
            long t0 = System.nanoTime();
            Future<?> probe = probes.submit(() -> db.execute().get("SELECT 1"));
            HealthCheckResponse.Builder b = HealthCheckResponse.builder();
            try {
                probe.get(dbTimeout.toMillis(), TimeUnit.MILLISECONDS);
                b.status(true);
            } catch (TimeoutException e) {
                probe.cancel(true);
                b.status(false).detail("error", "no answer within " + dbTimeout.toMillis() + " ms");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                b.status(false).detail("error", "interrupted");
            } catch (Exception e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                // The message of a connection failure names no credential (PgJDBC, HikariCP).
                b.status(false).detail("error", cause.getClass().getSimpleName() + ": " + cause.getMessage());
            }
            return b.detail("ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)).build();
        });
    }

    private HealthCheck feedCheck() {
        return check("feed", HealthCheckType.READINESS, () -> {
            FeedStatus st = broker.router().currentStatus();
            FeedStats fs = feed.stats();
            return HealthCheckResponse.builder()
                    .status(st.ok())
                    .detail("status", st.ok() ? "ok" : "degraded")
                    .detail("reason", st.reason())
                    .detail("lagMs", fs.lagMs())
                    .detail("lagRows", fs.lagRows())
                    .detail("cursor", fs.cursor())
                    .build();
        });
    }

    private static HealthCheck check(String name, HealthCheckType type,
                                     java.util.function.Supplier<HealthCheckResponse> body) {
        return new HealthCheck() {
            @Override
            public HealthCheckType type() {
                return type;
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public HealthCheckResponse call() {
                return body.get();
            }
        };
    }

    // ---- metrics

    private void registerMeters() {
        BrokerStats bs = broker.stats();
        FeedStats fs = feed.stats();
        gauge("sessions", "Sessions open now (STOMP and /ws, connected or not)", bs, BrokerStats::sessions);
        gauge("connections", "WebSocket connections open now", web, WebWiring::openConnections);
        for (Destination.Kind kind : Destination.Kind.values()) {
            gauge("subscriptions", "Subscriptions held now, by destination kind", broker, b -> b.subscriptions(kind),
                    Tag.create("kind", kind.label()));
        }
        counter("frames_in", "STOMP frames (heart-beats excluded) and /ws messages received", bs, BrokerStats::framesIn);
        counter("frames_out", "Messages queued for clients: STOMP frames (heart-beats excluded) and /ws JSON messages",
                bs, BrokerStats::framesOut);
        counter("events_routed", "Rows of vault_events that had a destination", bs, BrokerStats::eventsRouted);
        counter("events_unrouted", "Rows of vault_events whose event_type routes nowhere", bs, BrokerStats::eventsUnrouted);
        counter("messages_delivered", "Live events queued to subscriptions (one per subscriber)", bs,
                BrokerStats::messagesDelivered);
        counter("slow_consumer_closes", "Sessions closed because their outbound queue was full", bs,
                BrokerStats::slowConsumers);
        counter("delivery_failures", "Row deliveries that failed and were skipped, the rest of the batch delivered",
                bs, BrokerStats::deliveryFailures);
        counter("oversized_messages", "Rows sent as the oversized notice (data null) instead of their MESSAGE", bs,
                BrokerStats::oversizedMessages);
        counter("replays_truncated", "Replays cut to their bound, sent after a resume_gap notice", bs,
                BrokerStats::replaysTruncated);
        gauge("feed_up", "1 when the feed is ok, 0 when degraded", broker, b -> b.router().currentStatus().ok() ? 1 : 0);
        gauge("feed_lag_seconds", "How long the oldest row seen but not yet delivered has waited", fs,
                f -> f.lagMs() / 1000.0);
        gauge("feed_lag_rows", "Rows seen but not yet delivered", fs, FeedStats::lagRows);
        gauge("feed_cursor", "Highest vault_events id up to which everything is delivered", fs, FeedStats::cursor);
        counter("feed_polls", "Feed read cycles", fs, FeedStats::polls);
        gauge("feed_poll_time_seconds", "Total time spent in feed read cycles (only grows; divide its rate by"
                + " the rate of vault_broker_feed_polls_total for the mean poll duration)", fs, f -> f.pollNanos() / 1e9);
        counter("feed_queries", "SQL statements the feed has sent", fs, FeedStats::queries);
        counter("feed_rows_read", "Rows the feed has read", fs, FeedStats::rowsRead);
        counter("feed_late_rows", "Rows delivered after the feed had stopped waiting for them (x-late)", fs,
                FeedStats::lateRows);
        counter("feed_gaps_skipped", "Id gaps skipped, by cause", fs, FeedStats::gapsRolledBack,
                Tag.create("cause", "rolled_back"));
        counter("feed_gaps_skipped", "Id gaps skipped, by cause", fs, FeedStats::gapsOverdue,
                Tag.create("cause", "overdue"));
        counter("feed_reconnects", "Times the feed opened a new database connection after losing one", fs,
                FeedStats::reconnects);
        counter("feed_failures", "Feed cycles that failed for a reason other than the database (each restarted the loop)",
                fs, FeedStats::failures);
        counter("feed_lock_reads", "Lock-holder reads (pg_locks) the feed has sent", fs, FeedStats::lockReads);
        gauge("feed_watched_ranges", "Id ranges below the cursor watched for a late commit", fs, FeedStats::watched);
        counter("feed_watches_abandoned", "Watched id ranges dropped because too many were watched", fs,
                FeedStats::abandoned);
        counter("feed_identity_resets", "Times the identity of vault_events was found reset below the cursor", fs,
                FeedStats::resets);
        counter("out_of_memory_errors", "OutOfMemoryErrors caught (the launcher exits on the first)", fs,
                f -> OutOfMemory.count());
        bs.onNewKey((map, key) -> {
            if (closed) {
                return;
            }
            if (map.equals(BrokerStats.AUTH_FAILURES)) {
                counter("auth_failures", "Refused credentials, by the kind offered (never which part failed)", bs,
                        s -> s.authFailures(key), Tag.create("credential", key));
            } else {
                counter("limit_hits", "Sessions or frames refused by a limit, by limit", bs, s -> s.limitHits(key),
                        Tag.create("limit", key));
            }
        });
    }

    private <T> void gauge(String name, String description, T state, ToDoubleFunction<T> fn, Tag... tags) {
        meters.add(registry.getOrCreate(Gauge.builder(PREFIX + name, state, fn)
                .description(description)
                .tags(List.of(tags))));
    }

    private <T> void counter(String name, String description, T state, Function<T, Long> fn, Tag... tags) {
        meters.add(registry.getOrCreate(FunctionalCounter.builder(PREFIX + name, state, fn)
                .description(description)
                .tags(List.of(tags))));
    }
}
