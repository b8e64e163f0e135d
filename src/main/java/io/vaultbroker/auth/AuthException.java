package io.vaultbroker.auth;

/**
 * A credential was refused. The category (for example {@code expired}, {@code bad-signature},
 * {@code replayed}) is for the operator's log only; the client is always told just
 * "authentication failed", and metrics, which anyone who can reach {@code /observe/metrics}
 * reads, count by {@link #credential()} alone, so neither says which part of a credential (a
 * {@code kid} that exists, a signature that verified) failed. Immutable.
 */
public final class AuthException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String category;
    private final String credential;

    public AuthException(String category) {
        this(category, "unknown");
    }

    private AuthException(String category, String credential) {
        // No stack trace: refusals are routine and may be provoked in bulk by a remote peer,
        // and the category alone says where it came from.
        super(category, null, false, false);
        this.category = category;
        this.credential = credential;
    }

    /** Which check refused it: for the log line, never for the client or metrics. */
    public String category() {
        return category;
    }

    /**
     * The kind of credential the client offered ({@code jwt}, {@code wallet}, {@code dev}), which
     * the client chose itself: the only label safe to publish.
     */
    public String credential() {
        return credential;
    }

    /** The same refusal, labelled with the kind of credential it was. */
    AuthException of(String kind) {
        return new AuthException(category, kind);
    }
}
