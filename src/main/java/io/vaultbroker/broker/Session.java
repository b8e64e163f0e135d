package io.vaultbroker.broker;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import io.vaultbroker.auth.Principal;

/**
 * What every client connection has, whatever it speaks: a principal once authenticated, its
 * subscriptions, and a bounded outbox. Subclasses speak the protocol.
 *
 * <p>Threading: protocol input arrives on the connection's own thread, one message at a time;
 * {@link #push} and {@link #end} may be called from any thread (the feed, catch-up workers,
 * the ticker); {@code ended} makes ending happen once.
 */
abstract class Session {
    final Broker broker;
    final Transport transport;
    final Outbox outbox;
    final String id;
    final long openedNanos = System.nanoTime();
    final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
    private final AtomicBoolean ended = new AtomicBoolean();
    volatile Principal principal;
    volatile long connectedNanos;
    private final java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();

    Session(Broker broker, Transport transport, String id, boolean coalesce) {
        this.broker = broker;
        this.transport = transport;
        this.id = id;
        BrokerSettings s = broker.settings();
        this.outbox = new Outbox(transport, broker.writers(), broker.scheduler(), s.outboxFrames(), s.outboxBytes(),
                coalesce, this::transportGone, broker.queueBudget());
    }

    /** Renders an event for one of this session's subscriptions. */
    abstract String render(Subscription s, OutboundEvent e, String extraHeaders);

    /** Called about once a second by the broker's ticker. */
    abstract void tick(long nowNanos, Instant wallClock);

    /** Cuts the session off: it cannot keep up with what it is sent. */
    abstract void slowConsumer();

    /** Tells the client the server is going away, and closes. */
    abstract void shutdown(long retryAfterMs);

    /** A snapshot or replay could not be read: the client must resubscribe rather than miss rows. */
    abstract void catchUpFailed();

    /** Frames or messages received, for the close log line. */
    abstract long received();

    /** What the client speaks, for the close log line: {@code stomp} or {@code json}. */
    abstract String protocol();

    volatile boolean admitted;

    int maxHeld() {
        return broker.settings().outboxFrames();
    }

    /**
     * Why a connected session must end now, whatever protocol it speaks: "token expired" or
     * "session expired" (counted as a limit hit); null while it may go on.
     */
    final String expiry(long nowNanos, Instant wallClock) {
        Principal p = principal;
        if (p.expiresAt() != null && wallClock.isAfter(p.expiresAt())) {
            return "token expired";
        }
        if (nowNanos - connectedNanos > broker.settings().sessionLifetime().toNanos()) {
            broker.stats().limitHit("session-lifetime");
            return "session expired";
        }
        return null;
    }

    /** Queues a message; a full outbox makes this session a slow consumer. */
    final void push(String text) {
        Outbox.Offer o = outbox.offer(text);
        if (o == Outbox.Offer.QUEUED) {
            sent.incrementAndGet();
            broker.stats().framesOut.increment();
        } else if (o == Outbox.Offer.FULL) {
            slowConsumer();
        }
    }

    /** Messages queued for this client (heart-beats excluded), for the close log line. */
    final long sent() {
        return sent.get();
    }

    final boolean isEnded() {
        return ended.get();
    }

    final Collection<Subscription> subscriptionsView() {
        return subscriptions.values();
    }

    /**
     * Ends the session once: drops its subscriptions and counts, then writes {@code lastText}
     * and closes the socket (bounded by the outbox's close grace).
     */
    final void end(String lastText, int closeCode, String reason, boolean discardQueued) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        if (lastText != null) {
            sent.incrementAndGet();
            broker.stats().framesOut.increment();
        }
        broker.forget(this);
        outbox.finish(lastText, closeCode, reason, discardQueued);
    }

    /** The connection is gone (closed by the peer or failed). */
    final void transportGone() {
        outbox.transportClosed();
        if (ended.compareAndSet(false, true)) {
            broker.forget(this);
        }
    }
}
