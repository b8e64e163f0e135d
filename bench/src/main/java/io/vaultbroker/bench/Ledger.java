package io.vaultbroker.bench;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * What the producers committed (per destination, and the commit time of every row id) and what
 * the sessions received, so loss and commit-to-receive latency can be computed exactly.
 *
 * <p>Threading: producers and client callbacks write concurrently; all fields are atomic or
 * concurrent; the report reads after both sides have stopped.
 */
final class Ledger {
    // Row ids of a fresh table start at 1 and are dense (gaps only from failed inserts), so an
    // array indexed by id is the cheapest map; ids past it fall back to a hash map.
    private final AtomicLongArray commitNanosById;
    private final ConcurrentHashMap<Long, Long> commitNanosOverflow = new ConcurrentHashMap<>();
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
        this.commitNanosById = new AtomicLongArray((int) Math.min(Integer.MAX_VALUE - 8, expectedRows + expectedRows / 5 + 1024));
    }

    void committed(long id, long nanos) {
        if (id < commitNanosById.length()) {
            commitNanosById.set((int) id, nanos);
        } else {
            commitNanosOverflow.put(id, nanos);
        }
    }

    void transactionCommitted(long nanos) {
        firstCommitNanos.accumulateAndGet(nanos, Math::min);
        lastCommitNanos.accumulateAndGet(nanos, Math::max);
    }

    /** A MESSAGE for row {@code id} arrived at {@code nanos}. */
    void received(long id, long nanos) {
        messages.increment();
        lastMessageNanos.accumulateAndGet(nanos, Math::max);
        long c = commitNanos(id);
        if (c == 0) {
            // Delivered before the producer saw its commit return: settle it at the end.
            early.add(new long[] {id, nanos});
            return;
        }
        latencyUs.recordValue(Math.max(0, (nanos - c) / 1000));
    }

    /** Records the messages that overtook their producer's commit acknowledgement; returns how many. */
    long settleEarly() {
        long n = 0;
        long[] e;
        while ((e = early.poll()) != null) {
            long c = commitNanos(e[0]);
            latencyUs.recordValue(c == 0 ? 0 : Math.max(0, (e[1] - c) / 1000));
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
