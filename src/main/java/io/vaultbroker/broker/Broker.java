package io.vaultbroker.broker;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.vaultbroker.auth.Authenticator;
import io.vaultbroker.auth.Principal;
import io.vaultbroker.feed.EventStore;

/**
 * The broker: sessions, their subscriptions and the router that feeds them.
 *
 * <p>Threading: sessions are opened and closed on connection threads, admitted on their reader
 * thread, ticked by one scheduler thread, which also closes the largest queues when all of them
 * pass their budget; the session set and the per-subject and per-address counts are concurrent
 * maps changed with atomic compute calls.
 */
public final class Broker {
    private static final System.Logger LOG = System.getLogger(Broker.class.getName());

    private final BrokerSettings settings;
    private final SessionBudgets budgets;
    private final QueueBudget queueBudget;
    private volatile Consumer<Transport> onAuthenticated = t -> { };
    private final Authenticator authenticator;
    private final BrokerStats stats = new BrokerStats();
    private final ExecutorService writers = Executors.newVirtualThreadPerTaskExecutor();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("vault-broker-ticker").daemon(true).factory());
    private final Router router;
    private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
    private final KeyedCounts perSubject;
    private final KeyedCounts perAddress;

    public Broker(BrokerSettings settings, Authenticator authenticator, EventStore store) {
        this(settings, SessionBudgets.defaults(), authenticator, store);
    }

    public Broker(BrokerSettings settings, SessionBudgets budgets, Authenticator authenticator, EventStore store) {
        this.settings = settings;
        this.budgets = budgets;
        this.queueBudget = new QueueBudget(budgets.outboxTotalBytes());
        // Off the offering thread (the feed, a reader): closing sessions takes a scan of all of them.
        this.queueBudget.onOver(() -> scheduler.execute(this::enforceQueueBudget));
        this.authenticator = authenticator;
        this.perSubject = new KeyedCounts(settings.maxSessionsPerSubject());
        this.perAddress = new KeyedCounts(settings.maxSessionsPerAddress());
        this.router = new Router(stats, store, writers, settings);
    }

    /** Starts the ticker that enforces timeouts, expiry and heart-beats. */
    public void start() {
        scheduler.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    /**
     * Tells the web layer when a connection's session has authenticated, so that it leaves the
     * budgets of unauthenticated connections. Set once, before the server starts.
     */
    public void onAuthenticated(Consumer<Transport> listener) {
        this.onAuthenticated = listener;
    }

    /** Counts a limit the web layer enforced (refused connections, timeouts), for metrics. */
    public void limitHit(String limit) {
        stats.limitHit(limit);
    }

    /** Bytes the send queues of all sessions hold now (estimated). */
    public long queuedBytes() {
        return queueBudget.used();
    }

    /** A new STOMP session on a just-opened WebSocket. */
    public StompSession openStomp(Transport transport, String upgradeHost) {
        StompSession s = new StompSession(this, transport, newId(), upgradeHost);
        sessions.add(s);
        stats.sessions.incrementAndGet();
        return s;
    }

    /** A new session of the seed-compatible JSON endpoint on a just-opened WebSocket; call {@link JsonSession#start} next. */
    public JsonSession openJson(Transport transport) {
        JsonSession s = new JsonSession(this, transport, newId());
        sessions.add(s);
        stats.sessions.incrementAndGet();
        return s;
    }

    /**
     * Tells every session the server is going away (ERROR with a spread-out retry hint, close
     * 1012), then waits up to {@code drain} for their last writes.
     */
    public void shutdown(Duration spread, Duration drain) {
        List<Session> told = List.copyOf(sessions);
        for (Session s : told) {
            s.shutdown(ThreadLocalRandom.current().nextLong(Math.max(1, spread.toMillis())) + 1000);
        }
        // A session leaves the set as soon as it is told; its ERROR and close frame are written
        // later by its drainer, so wait for those writes, not for the set to empty.
        long deadline = System.nanoTime() + drain.toNanos();
        while (System.nanoTime() < deadline && !told.stream().allMatch(s -> s.outbox.isDone())) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        scheduler.shutdownNow();
    }

    /** Where the feed delivers. */
    public Router router() {
        return router;
    }

    /** Counters for metrics. */
    public BrokerStats stats() {
        return stats;
    }

    /** Subscriptions now held on destinations of a kind. */
    public int subscriptions(Destination.Kind kind) {
        return router.subscriptions(kind);
    }

    BrokerSettings settings() {
        return settings;
    }

    SessionBudgets budgets() {
        return budgets;
    }

    QueueBudget queueBudget() {
        return queueBudget;
    }

    Authenticator authenticator() {
        return authenticator;
    }

    ExecutorService writers() {
        return writers;
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /** Counts the session under its subject and address; returns a refusal reason or null. */
    String admit(Session s, Principal p) {
        if (!perSubject.take(p.subject())) {
            return "too many sessions";
        }
        if (settings.maxSessionsPerAddress() > 0 && !perAddress.take(s.transport.remoteAddress())) {
            perSubject.give(p.subject());
            return "too many sessions";
        }
        s.principal = p;
        s.admitted = true;
        onAuthenticated.accept(s.transport);
        return null;
    }

    /** Drops everything the broker holds for a session; runs once per session. */
    void forget(Session s) {
        if (!sessions.remove(s)) {
            return;
        }
        stats.sessions.decrementAndGet();
        for (Subscription sub : s.subscriptionsView()) {
            router.unsubscribe(sub);
        }
        s.subscriptions.clear();
        Principal p = s.principal;
        if (s.admitted) {
            perSubject.give(p.subject());
            if (settings.maxSessionsPerAddress() > 0) {
                perAddress.give(s.transport.remoteAddress());
            }
        }
        LOG.log(System.Logger.Level.INFO, "session " + s.id + " closed: subject " + (p == null ? "-" : p.subject())
                + " from " + s.transport.remoteAddress() + " after "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s.openedNanos) + " ms, " + s.received() + " frames in, "
                + s.sent() + " out (" + s.protocol() + ")");
    }

    private void tick() {
        long now = System.nanoTime();
        Instant wallClock = Instant.now();
        for (Session s : sessions) {
            try {
                if (!s.transport.isOpen()) {
                    s.transportGone();
                    continue;
                }
                if (!s.isEnded() && !s.outbox.isFinishing()
                        && s.outbox.oldestAgeNanos(now) > budgets.outboxMaxAge().toNanos()) {
                    stats.limitHit("outbox-age");
                    s.slowConsumer();
                    continue;
                }
                s.tick(now, wallClock);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "tick failed for session " + s.id, e);
            }
        }
    }

    /**
     * All queues together hold more than their budget: closes the sessions with the largest
     * queues as slow consumers (which drops their queues) until the rest fit. Runs on the ticker.
     */
    private void enforceQueueBudget() {
        try {
            if (!queueBudget.over()) {
                return;
            }
            // First what ended sessions still hold: they are closing anyway (a client that reads
            // nothing would keep it for the whole close grace), and they are no longer in the set.
            List<Outbox> ending = new ArrayList<>(queueBudget.finishing());
            List<long[]> endingSizes = new ArrayList<>(ending.size());
            for (int i = 0; i < ending.size(); i++) {
                endingSizes.add(new long[] {ending.get(i).queuedChars(), i});
            }
            endingSizes.sort(Comparator.comparingLong((long[] a) -> a[0]).reversed());
            int dropped = 0;
            for (long[] e : endingSizes) {
                if (!queueBudget.over()) {
                    break;
                }
                ending.get((int) e[1]).dropQueued();
                dropped++;
            }
            if (dropped > 0) {
                LOG.log(System.Logger.Level.WARNING, "send queues of all sessions passed their budget of "
                        + queueBudget.max() + " bytes; dropped what " + dropped + " ending sessions still had queued");
            }
            if (!queueBudget.over()) {
                return;
            }
            List<Session> bySize = new ArrayList<>();
            for (Session s : sessions) {
                if (!s.isEnded() && s.outbox.queuedChars() > 0) {
                    bySize.add(s);
                }
            }
            // Sizes change while sorting: sort on a copy of each, not on the live value.
            List<long[]> sizes = new ArrayList<>(bySize.size());
            for (int i = 0; i < bySize.size(); i++) {
                sizes.add(new long[] {bySize.get(i).outbox.queuedChars(), i});
            }
            sizes.sort(Comparator.comparingLong((long[] a) -> a[0]).reversed());
            int closed = 0;
            for (long[] e : sizes) {
                if (!queueBudget.over()) {
                    break;
                }
                stats.limitHit("outbox-total");
                bySize.get((int) e[1]).slowConsumer();
                closed++;
            }
            LOG.log(System.Logger.Level.WARNING, "send queues of all sessions passed their budget of "
                    + queueBudget.max() + " bytes; closed the " + closed + " largest as slow consumers");
        } finally {
            queueBudget.enforced();
            if (queueBudget.over()) {
                // Offers kept coming while we closed: look again rather than wait for the next one.
                scheduler.schedule(() -> queueBudget.add(0), 10, TimeUnit.MILLISECONDS);
            }
        }
    }

    private static String newId() {
        return UUID.randomUUID().toString().substring(0, 13).replace("-", "");
    }
}
