package io.vaultbroker.bench;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntUnaryOperator;
import java.util.concurrent.atomic.LongAdder;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What the producers committed (per destination, and the commit time of every row id) and what
 * the sessions received, so loss and commit-to-receive latency can be computed exactly. Every
 * row's deliveries are counted by id, so a row missing for one session, or delivered twice, shows
 * by itself ({@link #check}).
 *
 * <p>Threading: producers and client callbacks write concurrently; all fields are atomic or
 * concurrent; the report reads after both sides have stopped.
 */
final class Ledger {
    // Row ids of a fresh table start at 1 and are dense (gaps only from failed inserts), so an
    // array indexed by id is the cheapest map; ids past it fall back to a hash map.
    private final AtomicLongArray commitNanosById;
    private final ConcurrentHashMap<Long, Long> commitNanosOverflow = new ConcurrentHashMap<>();
    // Per id: the destination (DEST_* or 2 * user + kind, plus 1 so 0 means "not committed") and
    // how many MESSAGE frames carried it.
    private final AtomicIntegerArray destById;
    private final AtomicIntegerArray deliveriesById;
    private final ConcurrentHashMap<Long, Integer> destOverflow = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, AtomicInteger> deliveriesOverflow = new ConcurrentHashMap<>();
    /** Destination code of a /admin/tvl row. */
    static final int DEST_TVL = -1;
    // Phases (hostile): latencies of rows with id > phaseAfterId[p] go to phaseLatencyUs[p].
    private volatile long[] phaseAfterId = {0};
    private volatile Histogram[] phaseLatencyUs;
    final AtomicLongArray committedBalance;
    final AtomicLongArray committedTx;
    final AtomicLong committedTvl = new AtomicLong();
    final LongAdder rowsCommitted = new LongAdder();
    final LongAdder rowsFailed = new LongAdder();
    final AtomicLong firstCommitNanos = new AtomicLong(Long.MAX_VALUE);
    final AtomicLong lastCommitNanos = new AtomicLong();
    // Microseconds, 1 us .. 1 h, 3 significant digits.
    final Histogram latencyUs = new ConcurrentHistogram(3_600_000_000L, 3);
    final LongAdder messages = new LongAdder();
    final AtomicLong lastMessageNanos = new AtomicLong();
    private final ConcurrentLinkedQueue<long[]> early = new ConcurrentLinkedQueue<>();

    Ledger(int users, long expectedRows) {
        this.committedBalance = new AtomicLongArray(Math.max(users, 1));
        this.committedTx = new AtomicLongArray(Math.max(users, 1));
        int n = (int) Math.min(Integer.MAX_VALUE - 8, expectedRows + expectedRows / 5 + 1024);
        this.commitNanosById = new AtomicLongArray(n);
        this.destById = new AtomicIntegerArray(n);
        this.deliveriesById = new AtomicIntegerArray(n);
        this.phaseLatencyUs = new Histogram[] {latencyUs};
    }

    /** Destination code of a user's row: {@code balance} or tx. */
    static int dest(int user, boolean balance) {
        return 2 * user + (balance ? 0 : 1);
    }

    /** Row {@code id} for destination {@code dest} (see {@link #dest}) was committed at {@code nanos}. */
    void committed(long id, long nanos, int dest) {
        if (id < commitNanosById.length()) {
            destById.set((int) id, dest + 2);
            commitNanosById.set((int) id, nanos);
        } else {
            destOverflow.put(id, dest + 2);
            commitNanosOverflow.put(id, nanos);
        }
    }

    /**
     * Starts a phase: latencies of rows with ids above {@code afterId} are recorded in a histogram
     * of their own from now on (main thread only; no row of the previous phase may still be in
     * flight past that id). Returns that histogram.
     */
    Histogram startPhase(long afterId) {
        Histogram h = new ConcurrentHistogram(3_600_000_000L, 3);
        long[] ids = Arrays.copyOf(phaseAfterId, phaseAfterId.length + 1);
        Histogram[] hs = Arrays.copyOf(phaseLatencyUs, phaseLatencyUs.length + 1);
        ids[ids.length - 1] = afterId;
        hs[hs.length - 1] = h;
        phaseLatencyUs = hs;
        phaseAfterId = ids;
        return h;
    }

    /** What the per-row check found for a range of ids. */
    record Check(long rows, long rowsIncomplete, long rowsNeverDelivered, long messagesExpected,
                 long messagesLost, long duplicates, long firstIncompleteId, long[] incompleteCommitNanos) {
    }

    /**
     * Checks every committed row with {@code afterId < id <= upToId}: delivered to as many
     * sessions as {@code recipients} says for its destination code, no fewer and no more.
     */
    Check check(long afterId, long upToId, IntUnaryOperator recipients) {
        long rows = 0;
        long incomplete = 0;
        long never = 0;
        long expected = 0;
        long lost = 0;
        long dup = 0;
        long first = -1;
        long[] when = new long[1024];
        for (long id = Math.max(1, afterId + 1); id <= upToId; id++) {
            int d = destCode(id);
            if (d == 0) {
                continue;
            }
            rows++;
            int e = recipients.applyAsInt(d - 2);
            int got = deliveries(id);
            expected += e;
            if (got < e) {
                incomplete++;
                lost += e - got;
                if (first < 0) {
                    first = id;
                }
                if (incomplete <= 1_000_000) {
                    if (incomplete > when.length) {
                        when = Arrays.copyOf(when, when.length * 2);
                    }
                    when[(int) incomplete - 1] = commitNanos(id);
                }
                if (got == 0) {
                    never++;
                }
            } else {
                dup += got - e;
            }
        }
        return new Check(rows, incomplete, never, expected, lost, dup, first,
                Arrays.copyOf(when, (int) Math.min(incomplete, 1_000_000)));
    }

    /** The highest id committed so far (0 when none). */
    long maxCommittedId() {
        long max = 0;
        for (int i = destById.length() - 1; i > 0; i--) {
            if (destById.get(i) != 0) {
                max = i;
                break;
            }
        }
        for (Long id : destOverflow.keySet()) {
            max = Math.max(max, id);
        }
        return max;
    }

    private int destCode(long id) {
        if (id < destById.length()) {
            return destById.get((int) id);
        }
        Integer d = destOverflow.get(id);
        return d == null ? 0 : d;
    }

    int deliveries(long id) {
        if (id < deliveriesById.length()) {
            return deliveriesById.get((int) id);
        }
        AtomicInteger n = deliveriesOverflow.get(id);
        return n == null ? 0 : n.get();
    }

    void transactionCommitted(long nanos) {
        firstCommitNanos.accumulateAndGet(nanos, Math::min);
        lastCommitNanos.accumulateAndGet(nanos, Math::max);
    }

    /** A MESSAGE for row {@code id} arrived at {@code nanos}. */
    void received(long id, long nanos) {
        messages.increment();
        lastMessageNanos.accumulateAndGet(nanos, Math::max);
        if (id >= 0 && id < deliveriesById.length()) {
            deliveriesById.incrementAndGet((int) id);
        } else {
            deliveriesOverflow.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
        }
        long c = commitNanos(id);
        if (c == 0) {
            // Delivered before the producer saw its commit return: settle it at the end.
            early.add(new long[] {id, nanos});
            return;
        }
        histogramFor(id).recordValue(Math.max(0, (nanos - c) / 1000));
    }

    private Histogram histogramFor(long id) {
        long[] ids = phaseAfterId;
        Histogram[] hs = phaseLatencyUs;
        int n = Math.min(ids.length, hs.length);
        for (int p = n - 1; p > 0; p--) {
            if (id > ids[p]) {
                return hs[p];
            }
        }
        return hs[0];
    }

    /** Records the messages that overtook their producer's commit acknowledgement; returns how many. */
    long settleEarly() {
        long n = 0;
        long[] e;
        while ((e = early.poll()) != null) {
            long c = commitNanos(e[0]);
            histogramFor(e[0]).recordValue(c == 0 ? 0 : Math.max(0, (e[1] - c) / 1000));
            n++;
        }
        return n;
    }

    private long commitNanos(long id) {
        if (id < commitNanosById.length()) {
            return commitNanosById.get((int) id);
        }
        Long v = commitNanosOverflow.get(id);
        return v == null ? 0 : v;
    }
}
