package io.vaultbroker.broker;

import io.vaultbroker.stomp.StompEncoder;

/**
 * One subscription of one session to one destination.
 *
 * <p>While a snapshot or replay is read, live events wait in a {@link CatchUpGate} and go out
 * after it, so the subscriber sees the catch-up first and then the live stream, with nothing
 * twice and nothing missing. Threading: {@link #deliver} runs on the feed thread (under the
 * router's lock); {@code gate} and {@code seenThrough} are set under that lock before the
 * subscription is registered, so the feed thread sees them.
 */
final class Subscription {
    final Session session;
    final String id;
    final Destination destination;
    final boolean clientAck;
    final String subscriptionLine;
    private volatile CatchUpGate gate;
    // Rows up to this id were already seen by the client (x-resume-after ahead of this feed).
    private volatile long seenThrough = -1;

    Subscription(Session session, String id, Destination destination, boolean clientAck) {
        this.session = session;
        this.id = id;
        this.destination = destination;
        this.clientAck = clientAck;
        this.subscriptionLine = "subscription:" + StompEncoder.escape(id) + "\n";
    }

    /** Hands a live event to the session, or to the gate while catching up. */
    void deliver(OutboundEvent e) {
        // A late row is below the cursor by definition, and a client that resumed past its id
        // has not seen it (it committed after every instance had moved on): send it anyway.
        if (e.id >= 0 && e.id <= seenThrough && !e.late) {
            return;
        }
        CatchUpGate g = gate;
        if (g != null && g.offer(this, e)) {
            return;
        }
        session.push(session.render(this, e, ""));
    }

    /**
     * The client has every row up to this id (it resumed with an id this instance's feed has not
     * reached yet, e.g. one delivered by another instance): live rows up to it are not sent again,
     * except late ones, which no instance delivered before they committed.
     */
    void seenThrough(long id) {
        seenThrough = id;
    }

    /** From now on, live events wait in the gate until it is released. Call under the router's lock. */
    void hold(CatchUpGate g) {
        gate = g;
    }
}
