package io.vaultbroker.feed;

/**
 * An inclusive range of row ids. Immutable, thread-safe.
 *
 * @param from first id
 * @param to   last id, not below {@code from}
 */
public record IdRange(long from, long to) {
    public IdRange {
        if (to < from) {
            throw new IllegalArgumentException("empty range " + from + ".." + to);
        }
    }

    /** True when the id lies in this range. */
    public boolean contains(long id) {
        return id >= from && id <= to;
    }

    long size() {
        return to - from + 1;
    }
}
