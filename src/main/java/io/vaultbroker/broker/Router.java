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
    private final int messageBytes;
    private final int outboxFrames;
    private final long replayChars;
    private final AtomicLong noticeSeq = new AtomicLong();
    private FeedPosition position = new FeedPosition(0, List.of());
    private volatile FeedStatus status = FeedStatus.STARTING;

    Router(BrokerStats stats, EventStore store, Executor workers, BrokerSettings settings) {
        this.stats = stats;
        this.store = store;
        this.workers = workers;
        this.catchUps = new Semaphore(settings.replayConcurrency());
        this.replayLimit = settings.replayLimit();
        this.messageBytes = settings.messageBytes();
        this.outboxFrames = settings.outboxFrames();
        // Half the outbox for a replay: the other half is for the live events held meanwhile.
        this.replayChars = settings.outboxBytes() / 2;
    }

    @Override
    public void deliver(List<EventRow> rows, FeedPosition next) {
        synchronized (lock) {
            position = next;
            // No row stops another: a failure is contained to its row, or to one subscriber of it.
            for (EventRow row : rows) {
                try {
                    route(row);
                } catch (RuntimeException e) {
                    stats.deliveryFailures.increment();
                    LOG.log(System.Logger.Level.WARNING, "row " + row.id() + " (" + row.eventType()
                            + ") could not be delivered; skipped, the rest of its batch goes on", e);
                }
            }
        }
    }

    private void route(EventRow row) {
        Destination d = Destination.forEvent(row.eventType(), row.owner());
        if (d == null) {
            stats.eventsUnrouted.increment();
            return;
        }
        stats.eventsRouted.increment();
        Subscription[] subs = registry.get(d.name());
        if (subs.length == 0) {
            return;
        }
        OutboundEvent e = OutboundEvent.of(row, d, messageBytes);
        if (e.oversized > 0) {
            stats.oversizedMessages.increment();
            LOG.log(System.Logger.Level.WARNING, "row " + row.id() + " (" + row.eventType() + ") would be a "
                    + e.oversized + "-byte MESSAGE, over limits.message-bytes (" + messageBytes
                    + "): sent as the oversized notice");
        }
        int delivered = 0;
        for (Subscription s : subs) {
            try {
                s.deliver(e);
                delivered++;
            } catch (RuntimeException ex) {
                stats.deliveryFailures.increment();
                LOG.log(System.Logger.Level.WARNING, "row " + row.id() + " could not be delivered to session "
                        + s.session.id + "; its other subscribers still get it", ex);
            }
        }
        stats.messagesDelivered.add(delivered);
    }

    @Override
    public void status(FeedStatus next) {
        synchronized (lock) {
            status = next;
            OutboundEvent e = healthEvent(next);
            for (Subscription s : registry.get(HEALTH.name())) {
                try {
                    s.deliver(e);
                } catch (RuntimeException ex) {
                    stats.deliveryFailures.increment();
                    LOG.log(System.Logger.Level.WARNING, "health could not be delivered to session " + s.session.id, ex);
                }
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
                dropIfEnded(s);
            }
        }
        boolean snapshot = resumeAfter == null && table.stream().anyMatch(s -> s.destination.hasSnapshot());
        if (table.isEmpty() || (resumeAfter == null && !snapshot)) {
            table.forEach(registry::add);
            table.forEach(this::dropIfEnded);
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
        table.forEach(this::dropIfEnded);
        if (resumeAfter != null && resumeAfter >= at.cursor()) {
            gate.release(List.of());
            return;
        }
        workers.execute(() -> catchUp(table, gate, resumeAfter, at));
    }

    void unsubscribe(Subscription s) {
        registry.remove(s);
    }

    // A session may end while it subscribes (slow consumer, close, expiry on other threads). Its
    // end sets the flag, then drops the subscriptions it holds; a subscription put in the session
    // and registered before this check is either seen by that drop or sees the flag here, so
    // none is left behind for an ended session.
    private void dropIfEnded(Subscription s) {
        if (s.session.isEnded()) {
            registry.remove(s);
        }
    }

    private void catchUp(List<Subscription> subs, CatchUpGate gate, Long resumeAfter, FeedPosition at) {
        Session session = subs.getFirst().session;
        try {
            List<CatchUpGate.Item> out = new ArrayList<>();
            Replayed r = null;
            catchUps.acquire();
            try {
                if (session.isEnded()) {
                    return;
                }
                if (resumeAfter == null) {
                    snapshots(subs, at, out);
                } else {
                    r = replay(subs, resumeAfter, at, out);
                }
            } finally {
                catchUps.release();
            }
            if (r == null) {
                gate.release(out);
            } else if (gate.release(out, r.gap(), oldest -> gapNotices(subs, oldest), subs.size(), r.oldestWhenNone())) {
                stats.replaysTruncated.increment();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "catch-up for session " + session.id + " failed: " + e.getMessage());
            session.catchUpFailed();
        }
    }

    // The latest row each snapshot destination had when the feed was at the position, in id order.
    private void snapshots(List<Subscription> subs, FeedPosition at, List<CatchUpGate.Item> out) {
        List<OutboundEvent> latest = new ArrayList<>();
        List<Subscription> owners = new ArrayList<>();
        for (Subscription s : subs) {
            if (!s.destination.hasSnapshot()) {
                continue;
            }
            for (EventRow row : store.latest(DestinationFilters.of(s.destination), at.cursor(), 16 + at.pending().size())) {
                if (!at.isPending(row.id())) {
                    latest.add(catchUpEvent(row, s.destination));
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
            out.add(new CatchUpGate.Item(latest.get(i).id, s.session.render(s, latest.get(i), "x-snapshot:true\n")));
        }
    }

    /**
     * What a replay found.
     *
     * @param gap            true when rows were left out (bound, retention): the gap notice goes first
     * @param oldestWhenNone the oldest id the gap notice names when no row is sent
     */
    private record Replayed(boolean gap, long oldestWhenNone) {
    }

    /**
     * The rows after {@code after} up to the position, newest first as far as the bound allows:
     * at most {@code replay.limit} rows and never more than the outbox holds, at most half the
     * outbox's bytes. The gate cuts further to the room the outbox has at release.
     */
    private Replayed replay(List<Subscription> subs, long after, FeedPosition at, List<CatchUpGate.Item> out) {
        EventStore.Filter filter = EventStore.Filter.anyOf(subs.stream().map(s -> DestinationFilters.of(s.destination)).toList());
        EventStore.Replay r = store.between(filter, after, at.cursor(), Math.min(replayLimit, outboxFrames));
        boolean gap = r.truncated() || after < store.retentionHorizon();
        List<EventRow> rows = r.rows().stream().filter(row -> !at.isPending(row.id())).toList();
        List<CatchUpGate.Item> newestFirst = new ArrayList<>();
        long chars = 0;
        replayRows:
        for (int i = rows.size() - 1; i >= 0; i--) {
            EventRow row = rows.get(i);
            Destination d = Destination.forEvent(row.eventType(), row.owner());
            if (d == null) {
                continue;
            }
            OutboundEvent e = null;
            for (Subscription s : subs) {
                if (!s.destination.name().equals(d.name())) {
                    continue;
                }
                if (e == null) {
                    e = catchUpEvent(row, s.destination);
                }
                String text = s.session.render(s, e, "");
                if (chars + text.length() > replayChars) {
                    gap = true;
                    break replayRows;
                }
                chars += text.length();
                newestFirst.add(new CatchUpGate.Item(row.id(), text));
            }
        }
        for (int i = newestFirst.size() - 1; i >= 0; i--) {
            out.add(newestFirst.get(i));
        }
        long oldestWhenNone = gap && rows.isEmpty() ? store.oldestId().orElse(at.cursor() + 1)
                : rows.isEmpty() ? at.cursor() + 1 : rows.getLast().id() + 1;
        return new Replayed(gap, oldestWhenNone);
    }

    private List<String> gapNotices(List<Subscription> subs, long oldest) {
        List<String> out = new ArrayList<>();
        for (Subscription s : subs) {
            OutboundEvent notice = OutboundEvent.notice("gap-" + noticeSeq.incrementAndGet(), s.destination,
                    "resume_gap", "{\"oldestId\":" + oldest + "}", Instant.now(), "x-resume:gap\n");
            out.add(s.session.render(s, notice, ""));
        }
        return out;
    }

    // A row of a snapshot or replay, as the live path renders it (oversized notice included).
    private OutboundEvent catchUpEvent(EventRow row, Destination d) {
        OutboundEvent e = OutboundEvent.of(row, d, messageBytes);
        if (e.oversized > 0) {
            stats.oversizedMessages.increment();
        }
        return e;
    }

    private OutboundEvent healthEvent(FeedStatus st) {
        String data = "{\"status\":\"" + (st.ok() ? "ok" : "degraded") + "\",\"reason\":"
                + OutboundEvent.quote(st.reason()) + ",\"lagMs\":" + st.lagMs() + "}";
        return OutboundEvent.notice("h-" + noticeSeq.incrementAndGet(), HEALTH, "health_update", data, Instant.now(), "");
    }
}
