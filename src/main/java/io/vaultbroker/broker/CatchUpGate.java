package io.vaultbroker.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * Holds the live events of subscriptions that are catching up together (one session's, e.g. the
 * seed endpoint's balance and tx), so the catch-up goes out first and the held events after it
 * in the order the feed delivered them: id order across all of them.
 *
 * <p>The catch-up, the gap notices and the held events together never exceed what the session's
 * outbox admits at release: a replay that does not fit is cut to its newest rows and begins
 * with the gap notice (DESIGN.md §2, "a replay over its bound"), so a resume is never what makes a
 * session a slow consumer.
 *
 * <p>Threading: {@link #offer} runs on the feed thread, {@link #release} on a catch-up worker;
 * both under this object's monitor. Releases of one session's gates are serialised on the
 * session's monitor, so each sees the outbox the previous one filled. Once released, offers are
 * refused and events go out directly, after everything released.
 */
final class CatchUpGate {
    /**
     * One rendered catch-up message.
     *
     * @param id   its row id
     * @param text the message as the session sends it
     */
    record Item(long id, String text) {
    }

    private final Session session;
    private final List<String> held = new ArrayList<>();
    private long heldChars;
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
            heldChars = 0;
            session.slowConsumer();
            return true;
        }
        // Rendered now, as a direct delivery would be, so its size is known at release.
        String text = session.render(s, e, "");
        held.add(text);
        heldChars += text.length();
        return true;
    }

    /** Sends snapshot messages, then what was held, and lets events through from now on. */
    synchronized void release(List<Item> snapshots) {
        synchronized (session) {
            for (Item m : snapshots) {
                session.push(m.text());
            }
            flushHeld();
        }
    }

    /**
     * Sends a replay, then what was held, and lets events through from now on. Rows that do not
     * fit in the outbox's room (its bound less what is queued and what is held) are left out,
     * oldest first, and the gap notices then go first.
     *
     * @param rows           the replay's rows, ascending
     * @param gap            true when the replay is already cut (bound, retention): notices go first
     * @param notices        the gap notices (one per subscription) for the oldest id that follows
     * @param noticeCount    how many messages {@code notices} makes
     * @param oldestWhenNone the oldest id that follows when no row is sent
     * @return true when the replay was cut here or before (the client got the gap notice)
     */
    synchronized boolean release(List<Item> rows, boolean gap, LongFunction<List<String>> notices, int noticeCount,
                                 long oldestWhenNone) {
        synchronized (session) {
            BrokerSettings cfg = session.broker.settings();
            long frameRoom = (long) cfg.outboxFrames() - session.outbox.queuedFrames() - held.size();
            long charRoom = cfg.outboxBytes() - heldChars;
            int keep = rows.size();
            long chars = 0;
            for (Item m : rows) {
                chars += m.text().length();
            }
            // Without a notice the rows may fill the room; with one (given or forced) it takes a frame.
            while (keep > 0 && (keep + (gap ? noticeCount : 0) > frameRoom || chars > charRoom)) {
                gap = true;
                chars -= rows.get(rows.size() - keep).text().length();
                keep--;
            }
            List<Item> sent = rows.subList(rows.size() - keep, rows.size());
            if (gap) {
                long oldest = !sent.isEmpty() ? sent.getFirst().id()
                        : rows.isEmpty() ? oldestWhenNone : rows.getLast().id() + 1;
                for (String n : notices.apply(oldest)) {
                    session.push(n);
                }
            }
            for (Item m : sent) {
                session.push(m.text());
            }
            flushHeld();
            return gap;
        }
    }

    private void flushHeld() {
        for (String m : held) {
            session.push(m);
        }
        held.clear();
        heldChars = 0;
        holding = false;
    }
}
