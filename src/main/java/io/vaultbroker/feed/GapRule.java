package io.vaultbroker.feed;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The feed's gap rule as a pure state machine (DESIGN §4, §5): rows read, lock holders and the
 * clock in; rows to deliver, the next state and what to report out. No I/O of its own: the lock
 * holders are asked through the given {@link ChangeTable} only after the reads the step is given,
 * which is what makes them a witness (every inserter holds the table's lock before it draws an id
 * and until it ends, so the holders seen after a read that missed an id include whoever may still
 * commit it).
 *
 * <p>Rules: a missing id holds delivery until its candidates (the holders seen after it was first
 * missed, narrowed by every later check) are gone and one more read still misses it (rolled back),
 * or until it has been missing for {@code maxGapWait} since the feed first saw it: then it is given
 * up and watched, and a row that commits later is delivered marked late. All gaps of a cycle are
 * narrowed with one holders read. Watched ids are read at most every {@code watchEvery} unless one
 * of them is about to be settled.
 *
 * <p>Threading: immutable and stateless; {@link #step} may run on any one thread at a time per state.
 */
final class GapRule {
    /** What one step decided. */
    record Step(GapState next, List<EventRow> rows, boolean again, long lagNanos, int lagRows,
                int rolledBack, List<IdRange> givenUp, int late, List<IdRange> abandoned, int read) {
        /** True when the watched ids changed, so the position the sink knows is stale. */
        boolean moved(GapState before) {
            return next.cursor() != before.cursor() || !next.watches().equals(before.watches());
        }
    }

    /** What the feed read this cycle, before the step asks for lock holders. */
    record Reads(List<EventRow> fresh, boolean freshFull, List<IdRange> probed, List<EventRow> found) {
        static final Reads NONE = new Reads(List.of(), false, List.of(), List.of());
    }

    private final long maxGapWaitNanos;
    private final long youngNanos;
    private final long watchEveryNanos;
    private final int bufferCap;
    private final int maxWatches;

    /**
     * @param maxGapWaitNanos longest a missing id holds delivery
     * @param youngNanos      a gap younger than this is read again before holders are asked
     * @param watchEveryNanos how often watched ids are read
     * @param bufferCap       rows held behind gaps before reading past them pauses
     * @param maxWatches      watched ranges kept; beyond it the oldest are abandoned (logged, counted)
     */
    GapRule(long maxGapWaitNanos, long youngNanos, long watchEveryNanos, int bufferCap, int maxWatches) {
        this.maxGapWaitNanos = maxGapWaitNanos;
        this.youngNanos = youngNanos;
        this.watchEveryNanos = watchEveryNanos;
        this.bufferCap = bufferCap;
        this.maxWatches = maxWatches;
    }

    /** The state at start (or after an identity reset): everything up to {@code head} settled but the missing ids. */
    GapState start(long head, List<IdRange> missing, long now) {
        List<Hold> watches = missing.stream().map(r -> Hold.seen(r, now)).toList();
        return new GapState(head, head, List.of(), List.of(), watches, now - watchEveryNanos);
    }

    /** Whether this cycle should read past {@code readTo}: not while the rows held behind gaps fill the buffer. */
    boolean readsFresh(GapState s) {
        return s.buffer().size() < bufferCap;
    }

    /** The ranges this cycle should read again: every gap, and the watches when due. */
    List<IdRange> probes(GapState s, long now) {
        List<IdRange> out = new ArrayList<>(s.gaps().size() + s.watches().size());
        for (Hold g : s.gaps()) {
            out.add(g.range());
        }
        if (watchesDue(s, now)) {
            for (Hold w : s.watches()) {
                out.add(w.range());
            }
        }
        return out;
    }

    private boolean watchesDue(GapState s, long now) {
        if (s.watches().isEmpty()) {
            return false;
        }
        if (now - s.lastWatchNanos() >= watchEveryNanos) {
            return true;
        }
        for (Hold w : s.watches()) {
            if (w.confirm()) {
                return true;
            }
        }
        return false;
    }

    /**
     * One whole cycle against the table: the read past {@code readTo}, the read of gaps and due
     * watches, then the step (which may read the lock holders). Changes nothing: the caller takes
     * {@link Step#next()} once the rows are handed on.
     */
    Step cycle(GapState s, ChangeTable table, int batchSize, long now) throws SQLException {
        List<EventRow> fresh = readsFresh(s) ? table.after(s.readTo(), batchSize) : List.of();
        List<IdRange> probes = probes(s, now);
        List<EventRow> found = probes.isEmpty() ? List.of() : table.inRanges(probes);
        return step(s, new Reads(fresh, fresh.size() == batchSize, probes, found), table, now);
    }

    /** One cycle: the reads are already made; holders are read here when a decision needs them. */
    Step step(GapState s, Reads r, ChangeTable table, long now) throws SQLException {
        if (s.gaps().isEmpty() && s.watches().isEmpty() && s.buffer().isEmpty() && r.found().isEmpty()
                && contiguous(s.readTo(), r.fresh())) {
            // The busy, gap-free path: everything read goes out as it is.
            long to = r.fresh().isEmpty() ? s.readTo() : r.fresh().getLast().id();
            GapState next = new GapState(to, to, List.of(), List.of(), List.of(), s.lastWatchNanos());
            return new Step(next, r.fresh(), r.freshFull(), 0, 0, 0, List.of(), 0, List.of(), r.fresh().size());
        }
        TreeMap<Long, EventRow> buffer = new TreeMap<>();
        for (EventRow row : s.buffer()) {
            buffer.put(row.id(), row);
        }
        List<Hold> gaps = new ArrayList<>(s.gaps());
        List<Hold> watches = new ArrayList<>(s.watches());
        List<EventRow> late = new ArrayList<>();
        // The probed ranges are disjoint (they were the holds' ranges): keyed by their start, one
        // lookup tells whether a hold was read, so thousands of watches cost no quadratic scan.
        TreeMap<Long, Long> probed = new TreeMap<>();
        for (IdRange p : r.probed()) {
            probed.merge(p.from(), p.to(), Math::max);
        }
        boolean watchesProbed = false;
        for (Hold w : watches) {
            if (overlaps(probed, w.range())) {
                watchesProbed = true;
                break;
            }
        }

        // 1. Rows that appeared in gaps join the buffer; rows that appeared in watches go out late.
        for (EventRow row : r.found()) {
            if (remove(gaps, row.id())) {
                buffer.put(row.id(), row);
            } else if (remove(watches, row.id())) {
                late.add(new EventRow(row.id(), row.eventType(), row.owner(), row.payloadJson(), row.createdAt(), true));
            }
        }
        // 2. Ids whose candidates had all gone before this read, and which it still missed: rolled back.
        int rolledBack = settle(gaps, probed) + settle(watches, probed);

        // 3. Rows past readTo; what they skip over is a new gap, its clock starting now.
        long readTo = s.readTo();
        for (EventRow row : r.fresh()) {
            if (row.id() <= readTo) {
                continue;
            }
            if (row.id() > readTo + 1) {
                gaps.add(Hold.seen(new IdRange(readTo + 1, row.id() - 1), now));
            }
            buffer.put(row.id(), row);
            readTo = row.id();
        }

        // 4. One holders read narrows every gap old enough to ask about, and the watches just read.
        boolean askGaps = false;
        for (Hold g : gaps) {
            askGaps |= g.candidates() != null || now - g.sinceNanos() > youngNanos;
        }
        boolean again = r.freshFull();
        if (askGaps || (watchesProbed && !watches.isEmpty())) {
            Set<String> holders = table.holders();
            if (askGaps) {
                again |= narrow(gaps, holders, now, true);
            }
            if (watchesProbed) {
                again |= narrow(watches, holders, now, false);
            }
        }

        // 5. Deliver the prefix: buffered rows in id order, skipping settled ids, giving up overdue gaps.
        long cursor = s.cursor();
        List<EventRow> out = new ArrayList<>(late.size() + buffer.size());
        out.addAll(late);
        List<IdRange> givenUp = new ArrayList<>();
        gaps.sort(GapRule::byFrom);
        while (true) {
            Long nextRow = buffer.isEmpty() ? null : buffer.firstKey();
            Hold gap = gaps.isEmpty() ? null : gaps.getFirst();
            long nextKnown = Math.min(nextRow == null ? Long.MAX_VALUE : nextRow,
                    gap == null ? Long.MAX_VALUE : gap.range().from());
            if (nextKnown == Long.MAX_VALUE) {
                cursor = readTo;
                break;
            }
            // Ids between the cursor and the next known one were settled (rolled back).
            cursor = Math.max(cursor, nextKnown - 1);
            if (nextRow != null && nextRow == nextKnown) {
                out.add(buffer.pollFirstEntry().getValue());
                cursor = nextRow;
                continue;
            }
            if (now - gap.sinceNanos() > maxGapWaitNanos) {
                gaps.removeFirst();
                watches.add(gap.givenUp());
                givenUp.add(gap.range());
                cursor = gap.range().to();
                continue;
            }
            break;
        }

        // 6. Bound the watch list: the oldest ranges beyond the cap are abandoned, loudly.
        watches.sort(GapRule::byFrom);
        List<IdRange> abandoned = new ArrayList<>();
        while (watches.size() > maxWatches) {
            abandoned.add(watches.removeFirst().range());
        }

        long lagNanos = gaps.isEmpty() ? 0 : now - gaps.getFirst().sinceNanos();
        List<Hold> nextWatches = watches.equals(s.watches()) ? s.watches() : watches;
        GapState next = new GapState(cursor, readTo, List.copyOf(buffer.values()), gaps, nextWatches,
                watchesProbed ? now : s.lastWatchNanos());
        return new Step(next, out, again, lagNanos, buffer.size(), rolledBack, givenUp, late.size(), abandoned,
                r.fresh().size() + r.found().size());
    }

    private static boolean contiguous(long readTo, List<EventRow> rows) {
        long expect = readTo + 1;
        for (EventRow row : rows) {
            if (row.id() != expect) {
                return false;
            }
            expect++;
        }
        return true;
    }

    private static int byFrom(Hold a, Hold b) {
        return Long.compare(a.range().from(), b.range().from());
    }

    private static boolean overlaps(TreeMap<Long, Long> probed, IdRange r) {
        var below = probed.floorEntry(r.to());
        return below != null && below.getValue() >= r.from();
    }

    // Takes the id out of the hold that contains it, splitting the hold. True when one did.
    private static boolean remove(List<Hold> holds, long id) {
        for (int i = 0; i < holds.size(); i++) {
            Hold h = holds.get(i);
            if (!h.range().contains(id)) {
                continue;
            }
            holds.remove(i);
            if (id < h.range().to()) {
                holds.add(i, h.over(new IdRange(id + 1, h.range().to())));
            }
            if (id > h.range().from()) {
                holds.add(i, h.over(new IdRange(h.range().from(), id - 1)));
            }
            return true;
        }
        return false;
    }

    // Drops confirmed holds that this cycle's reads covered and did not find. Returns how many ids.
    private static int settle(List<Hold> holds, TreeMap<Long, Long> probed) {
        int settled = 0;
        for (var it = holds.iterator(); it.hasNext(); ) {
            Hold h = it.next();
            if (h.confirm() && covered(probed, h.range())) {
                it.remove();
                settled += (int) Math.min(Integer.MAX_VALUE, h.range().size());
            }
        }
        return settled;
    }

    private static boolean covered(TreeMap<Long, Long> probed, IdRange r) {
        var p = probed.floorEntry(r.from());
        return p != null && p.getValue() >= r.to();
    }

    // Narrows the holds' candidates; true when one of them has none left (the next read decides).
    private boolean narrow(List<Hold> holds, Set<String> holders, long now, boolean onlyOld) {
        boolean confirmed = false;
        for (int i = 0; i < holds.size(); i++) {
            Hold h = holds.get(i);
            if (onlyOld && h.candidates() == null && now - h.sinceNanos() <= youngNanos) {
                continue;
            }
            Hold n = h.narrowed(holders);
            holds.set(i, n);
            confirmed |= n.confirm() && !h.confirm();
        }
        return confirmed;
    }

    static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}
