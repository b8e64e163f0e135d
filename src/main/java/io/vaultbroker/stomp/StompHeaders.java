package io.vaultbroker.stomp;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Ordered frame headers. Repeated names are kept (STOMP 1.2 allows them, e.g. for a relayed MESSAGE) and
 * lookups return the first occurrence, because the spec says only the first one is used.
 * <p>Immutable, thread-safe.
 */
public final class StompHeaders {

    static final StompHeaders EMPTY = new StompHeaders(new String[0], 0);

    // names at even, values at odd indexes; a flat array keeps a small frame's headers in one allocation
    private final String[] nv;
    private final int size;

    // Takes ownership of nv: callers must not touch it afterwards.
    StompHeaders(String[] nv, int size) {
        this.nv = nv;
        this.size = size;
    }

    /**
     * Headers from alternating names and values, e.g. {@code of("destination", "/topic/a", "id", "0")}.
     *
     * @throws IllegalArgumentException if the count is odd or a name is empty
     * @throws NullPointerException     if any name or value is null
     */
    public static StompHeaders of(String... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values must come in pairs");
        }
        Builder b = new Builder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            b.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return b.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** First value for {@code name}, or null. Names are case-sensitive, as in STOMP. */
    public String get(String name) {
        for (int i = 0; i < size; i++) {
            if (nv[2 * i].equals(name)) {
                return nv[2 * i + 1];
            }
        }
        return null;
    }

    public Optional<String> find(String name) {
        return Optional.ofNullable(get(name));
    }

    /** Number of header lines, repeats included. */
    public int size() {
        return size;
    }

    /** All headers in frame order, repeats included; the list is unmodifiable. */
    public List<Map.Entry<String, String>> entries() {
        return new AbstractList<>() {
            @Override
            public Map.Entry<String, String> get(int index) {
                Objects.checkIndex(index, size);
                return Map.entry(nv[2 * index], nv[2 * index + 1]);
            }

            @Override
            public int size() {
                return size;
            }
        };
    }

    // Index-based access for the encoder, so encoding does not allocate an entry per header.
    String nameAt(int i) {
        return nv[2 * i];
    }

    String valueAt(int i) {
        return nv[2 * i + 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StompHeaders other
                && size == other.size
                && Arrays.equals(nv, 0, 2 * size, other.nv, 0, 2 * size);
    }

    @Override
    public int hashCode() {
        int h = 1;
        for (int i = 0; i < 2 * size; i++) {
            h = 31 * h + nv[i].hashCode();
        }
        return h;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < size; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(nv[2 * i]).append('=').append(nv[2 * i + 1]);
        }
        return sb.append('}').toString();
    }

    /**
     * Collects headers in order.
     * <p>Not thread-safe: confine a builder to one thread.
     */
    public static final class Builder {
        private String[] nv = new String[8];
        private int size;

        Builder() {
        }

        /**
         * @throws IllegalArgumentException if the name is empty (STOMP header names have at least one octet)
         * @throws NullPointerException     if name or value is null
         */
        public Builder add(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (name.isEmpty()) {
                throw new IllegalArgumentException("header name must not be empty");
            }
            if (2 * size + 2 > nv.length) {
                nv = Arrays.copyOf(nv, nv.length * 2);
            }
            nv[2 * size] = name;
            nv[2 * size + 1] = value;
            size++;
            return this;
        }

        /** The headers added so far; the builder stays usable and later adds do not affect the result. */
        public StompHeaders build() {
            return size == 0 ? EMPTY : new StompHeaders(Arrays.copyOf(nv, 2 * size), size);
        }
    }
}
