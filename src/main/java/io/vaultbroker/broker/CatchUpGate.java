package io.vaultbroker.broker;

import java.util.ArrayList;
import java.util.List;

/**
 * Holds the live events of subscriptions that are catching up together (one session's, e.g. the
 * seed endpoint's balance and tx), so the catch-up goes out first and the held events after it
 * in the order the feed delivered them: id order across all of them.
 *
 * <p>Threading: {@link #offer} runs on the feed thread, {@link #release} on a catch-up worker;
 * both under this object's monitor. Once released, offers are refused and events go out directly,
 * after everything released.
 */
final class CatchUpGate {
    private record Held(Subscription subscription, OutboundEvent event) {
    }

    private final Session session;
    private final List<Held> held = new ArrayList<>();
    private boolean holding = true;

    CatchUpGate(Session session) {
        this.session = session;
    }

    /** Keeps the event back while catching up; false once released (send it directly). */
    synchronized boolean offer(Subscription s, OutboundEvent e) {
        if (!holding) {
            return false;
        }
        if (held.size() >= session.maxHeld()) {
            holding = false;
            held.clear();
            session.slowConsumer();
            return true;
        }
        held.add(new Held(s, e));
        return true;
    }

    /** Sends the catch-up messages, then what was held, and lets events through from now on. */
    synchronized void release(List<String> catchUp) {
        for (String m : catchUp) {
            session.push(m);
        }
        for (Held h : held) {
            session.push(session.render(h.subscription(), h.event(), ""));
        }
        held.clear();
        holding = false;
    }
}
