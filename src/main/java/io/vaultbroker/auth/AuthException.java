package io.vaultbroker.auth;

/**
 * A credential was refused. The category is for logs and metrics only (for example
 * {@code expired}, {@code bad-signature}, {@code replayed}); the client is always told just
 * "authentication failed", so a category never carries any part of the credential. Immutable.
 */
public final class AuthException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String category;

    public AuthException(String category) {
        // No stack trace: refusals are routine and may be provoked in bulk by a remote peer,
        // and the category alone says where it came from.
        super(category, null, false, false);
        this.category = category;
    }

    public String category() {
        return category;
    }
}
