package io.vaultbroker.broker;

/**
 * A resume position as a client sends it ({@code x-resume-after}, {@code ?resume_after},
 * {@code --resume-after}): one parser for every endpoint and the CLI, so they accept exactly the
 * same text. A row id is written in ASCII decimal digits only, without a sign, at most
 * {@link Long#MAX_VALUE}; leading zeros are allowed. {@code Long.parseLong} and
 * {@code Character::isDigit} are not used because they accept digits of other scripts
 * (e.g. {@code "١٢"}) and a sign. Immutable, thread-safe.
 *
 * @param status absent, a value, or invalid
 * @param id     the row id when {@code status} is {@link Status#VALUE}, else 0
 */
public record ResumeAfter(Status status, long id) {
    /** What the text was. */
    public enum Status {
        /** No resume position was sent. */
        ABSENT,
        /** A row id. */
        VALUE,
        /** Sent but not a row id: refuse it. */
        INVALID
    }

    private static final ResumeAfter ABSENT = new ResumeAfter(Status.ABSENT, 0);
    private static final ResumeAfter INVALID = new ResumeAfter(Status.INVALID, 0);

    /**
     * Parses a resume position.
     *
     * @param text the header or parameter as sent; null when absent
     * @return absent for null, a value for 1 or more ASCII digits up to {@link Long#MAX_VALUE},
     *         invalid for anything else (the empty string included)
     */
    public static ResumeAfter parse(String text) {
        if (text == null) {
            return ABSENT;
        }
        if (text.isEmpty()) {
            return INVALID;
        }
        long v = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return INVALID;
            }
            int d = c - '0';
            if (v > (Long.MAX_VALUE - d) / 10) {
                return INVALID;
            }
            v = v * 10 + d;
        }
        return new ResumeAfter(Status.VALUE, v);
    }

    /** True when a resume position was sent but is no row id. */
    public boolean invalid() {
        return status == Status.INVALID;
    }

    /** The id as the router takes it: null when absent. Not for an invalid one. */
    public Long orNull() {
        if (status == Status.INVALID) {
            throw new IllegalStateException("invalid resume position");
        }
        return status == Status.VALUE ? id : null;
    }
}
