package io.vaultbroker.broker;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

import io.vaultbroker.feed.EventRow;
import io.vaultbroker.feed.EventStore;
import io.vaultbroker.feed.FeedPosition;
import io.vaultbroker.feed.FeedSink;
import io.vaultbroker.feed.FeedStatus;

/**
 * Gives each row of the feed to every subscription on its destination, rendering it once.
 *
 * <p>Threading: {@link #deliver} and {@link #status} run on the feed thread. Registration of
 * subscriptions that need a snapshot or replay takes the same lock as delivery, so the feed
 * position it reads splits the stream exactly: rows at or below it come from the catch-up query,
 * rows after it live. Plain subscriptions register without that lock.
 */
public final class Router implements FeedSink {
    private static final System.Logger LOG = System.getLogger(Router.class.getName());
    private static final Destination HEALTH = Destination.parse(Destination.HEALTH).orElseThrow();

    private final Object lock = new Object();
    private final SubscriptionRegistry registry = new SubscriptionRegistry();
    private final BrokerStats stats;
    private final EventStore store;
    private final Executor workers;
    private final Semaphore catchUps;
    private final int replayLimit;
    private final AtomicLong noticeSeq = new AtomicLong();
    private FeedPosition position = new FeedPosition(0, List.of());
    private volatile FeedStatus status = FeedStatus.STARTING;

    Router(BrokerStats stats, EventStore store, Executor workers, int replayConcurrency, int replayLimit) {
        this.stats = stats;
        this.store = store;
        this.workers = workers;
        this.catchUps = new Semaphore(replayConcurrency);
        this.replayLimit = replayLimit;
    }

    @Override
    public void deliver(List<EventRow> rows, FeedPosition next) {
        synchronized (lock) {
            position = next;
            for (EventRow row : rows) {
                Destination d = Destination.forEvent(row.eventType(), row.owner());
                if (d == null) {
                    stats.eventsUnrouted.increment();
                    continue;
                }
                stats.eventsRouted.increment();
                Subscription[] subs = registry.get(d.name());
                if (subs.length == 0) {
                    continue;
                }
                OutboundEvent e = OutboundEvent.of(row, d);
                for (Subscription s : subs) {
                    s.deliver(e);
                }
                stats.messagesDelivered.add(subs.length);
            }
        }
    }

    @Override
    public void status(FeedStatus next) {
        synchronized (lock) {
            status = next;
            OutboundEvent e = healthEvent(next);
            for (Subscription s : registry.get(HEALTH.name())) {
                s.deliver(e);
            }
        }
    }

    /** The feed's current status. */
    public FeedStatus currentStatus() {
        return status;
    }

    int subscriptions(Destination.Kind kind) {
        return registry.count(kind);
    }

    void subscribe(Subscription s, Long resumeAfter) {
        subscribe(List.of(s), resumeAfter);
    }

    /**
     * Registers subscriptions of one session. Those that need a snapshot or a replay catch up
     * together: one query in id order across their destinations, then their held live events.
     */
    void subscribe(List<Subscription> subs, Long resumeAfter) {
        List<Subscription> table = new ArrayList<>();
        for (Subscription s : subs) {
            if (s.destination.fromTable()) {
                table.add(s);
            } else {
                synchronized (lock) {
                    registry.add(s);
                    s.deliver(healthEvent(status));
                }
            }
        }
        boolean snapshot = resumeAfter == null && table.stream().anyMatch(s -> s.destination.hasSnapshot());
        if (table.isEmpty() || (resumeAfter == null && !snapshot)) {
            table.forEach(registry::add);
            return;
        }
        CatchUpGate gate = new CatchUpGate(table.getFirst().session);
        FeedPosition at;
        synchronized (lock) {
            at = position;
            for (Subscription s : table) {
                s.hold(gate);
                if (resumeAfter != null && resumeAfter >= at.cursor()) {
                    // Nothing to replay; but the client may be ahead of this feed (it resumed with
                    // an id another instance delivered): do not send it those rows again.
                    s.seenThrough(resumeAfter);
                }
                registry.add(s);
            }
        }
        if (resumeAfter != null && resumeAfter >= at.cursor()) {
            gate.release(List.of());
            return;
        }
        workers.execute(() -> catchUp(table, gate, resumeAfter, at));
    }

    void unsubscribe(Subscription s) {
        registry.remove(s);
    }

    private void catchUp(List<Subscription> subs, CatchUpGate gate, Long resumeAfter, FeedPosition at) {
        Session session = subs.getFirst().session;
        List<String> out = new ArrayList<>();
        try {
            catchUps.acquire();
            try {
                if (session.isEnded()) {
                    return;
                }
                if (resumeAfter == null) {
                    snapshots(subs, at, out);
                } else {
                    replay(subs, resumeAfter, at, out);
                }
            } finally {
                catchUps.release();
            }
            gate.release(out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "catch-up for session " + session.id + " failed: " + e.getMessage());
            session.catchUpFailed();
        }
    }

    // The latest row each snapshot destination had when the feed was at the position, in id order.
    private void snapshots(List<Subscription> subs, FeedPosition at, List<String> out) {
        List<OutboundEvent> latest = new ArrayList<>();
        List<Subscription> owners = new ArrayList<>();
        for (Subscription s : subs) {
            if (!s.destination.hasSnapshot()) {
                continue;
            }
            for (EventRow row : store.latest(DestinationFilters.of(s.destination), at.cursor(), 16 + at.pending().size())) {
                if (!at.isPending(row.id())) {
                    latest.add(OutboundEvent.of(row, s.destination));
                    owners.add(s);
                    break;
                }
            }
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < latest.size(); i++) {
            order.add(i);
        }
        order.sort((a, b) -> Long.compare(latest.get(a).id, latest.get(b).id));
        for (int i : order) {
            Subscription s = owners.get(i);
            out.add(s.session.render(s, latest.get(i), "x-snapshot:true\n"));
        }
    }

    private void replay(List<Subscription> subs, long after, FeedPosition at, List<String> out) {
        EventStore.Filter filter = EventStore.Filter.anyOf(subs.stream().map(s -> DestinationFilters.of(s.destination)).toList());
        EventStore.Replay r = store.between(filter, after, at.cursor(), replayLimit);
        boolean gap = r.truncated() || after < store.retentionHorizon();
        List<EventRow> rows = r.rows().stream().filter(row -> !at.isPending(row.id())).toList();
        if (gap) {
            long oldest = rows.isEmpty() ? store.oldestId().orElse(at.cursor() + 1) : rows.getFirst().id();
            for (Subscription s : subs) {
                OutboundEvent notice = OutboundEvent.notice("gap-" + noticeSeq.incrementAndGet(), s.destination,
                        "resume_gap", "{\"oldestId\":" + oldest + "}", Instant.now(), "x-resume:gap\n");
                out.add(s.session.render(s, notice, ""));
            }
        }
        for (EventRow row : rows) {
            Destination d = Destination.forEvent(row.eventType(), row.owner());
            for (Subscription s : subs) {
                if (d != null && s.destination.name().equals(d.name())) {
                    out.add(s.session.render(s, OutboundEvent.of(row, s.destination), ""));
                }
            }
        }
    }

    private OutboundEvent healthEvent(FeedStatus st) {
        String data = "{\"status\":\"" + (st.ok() ? "ok" : "degraded") + "\",\"reason\":"
                + OutboundEvent.quote(st.reason()) + ",\"lagMs\":" + st.lagMs() + "}";
        return OutboundEvent.notice("h-" + noticeSeq.incrementAndGet(), HEALTH, "health_update", data, Instant.now(), "");
    }
}
