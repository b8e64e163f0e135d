package io.vaultbroker.broker;

import java.util.ArrayList;
import java.util.List;

import io.vaultbroker.stomp.StompEncoder;

/**
 * One subscription of one session to one destination.
 *
 * <p>While a snapshot or replay is read, live events are held here and released after it, so the
 * subscriber sees the catch-up first and then the live stream, with nothing twice and nothing
 * missing. Threading: {@link #deliver} runs on the feed thread (under the router's lock), the
 * catch-up on a worker; both take this object's monitor, which only guards {@code held}.
 */
final class Subscription {
    final Session session;
    final String id;
    final Destination destination;
    final boolean clientAck;
    final String subscriptionLine;
    private List<OutboundEvent> held;
    // Rows up to this id were already seen by the client (x-resume-after ahead of this feed).
    private volatile long seenThrough = -1;

    Subscription(Session session, String id, Destination destination, boolean clientAck) {
        this.session = session;
        this.id = id;
        this.destination = destination;
        this.clientAck = clientAck;
        this.subscriptionLine = "subscription:" + StompEncoder.escape(id) + "\n";
    }

    /** Hands a live event to the session, or holds it while catching up. */
    void deliver(OutboundEvent e) {
        if (e.id >= 0 && e.id <= seenThrough) {
            return;
        }
        synchronized (this) {
            if (held != null) {
                if (held.size() >= session.maxHeld()) {
                    held = null;
                    session.slowConsumer();
                    return;
                }
                held.add(e);
                return;
            }
        }
        session.push(session.render(this, e, ""));
    }

    /**
     * The client has every row up to this id (it resumed with an id this instance's feed has not
     * reached yet, e.g. one delivered by another instance): live rows up to it are not sent again.
     */
    void seenThrough(long id) {
        seenThrough = id;
    }

    /** From now on, live events wait until {@link #release}. Call under the router's lock. */
    synchronized void hold() {
        held = new ArrayList<>();
    }

    /** Sends the catch-up messages, then what was held, and goes live. */
    void release(List<String> catchUp) {
        synchronized (this) {
            for (String m : catchUp) {
                session.push(m);
            }
            if (held != null) {
                for (OutboundEvent e : held) {
                    session.push(session.render(this, e, ""));
                }
            }
            held = null;
        }
    }
}
