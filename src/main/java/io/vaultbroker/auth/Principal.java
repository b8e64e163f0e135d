package io.vaultbroker.auth;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * Who a session is, once its CONNECT credential has been accepted. Immutable.
 *
 * @param subject   the user's base58 pubkey; for admins (JWT role {@code admin}) any non-empty string,
 *                  for dev mode whatever {@code login} said
 * @param roles     role names from the token; empty for wallet sign-in
 * @param expiresAt when the credential stops being valid ({@code exp}); null when the credential
 *                  carries no expiry (wallet, dev) and the broker's session lifetime applies alone
 * @param method    {@code "jwt"}, {@code "wallet"} or {@code "dev"}
 */
public record Principal(String subject, Set<String> roles, Instant expiresAt, String method) {

    public static final String ADMIN_ROLE = "admin";

    public Principal {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(method, "method");
        if (subject.isBlank()) {
            throw new IllegalArgumentException("subject must not be blank");
        }
        if (!printable(subject)) {
            // Authenticators refuse these first; this keeps CR/LF out of every log line and header.
            throw new IllegalArgumentException("subject must be printable");
        }
        roles = roles == null ? Set.of() : Set.copyOf(roles);
    }

    /**
     * True when every character is one a log line or a STOMP header can show as itself: no
     * control characters (CR, LF, NUL, ESC …), no invisible format characters (bidi overrides,
     * zero-width), no line or paragraph separators, no lone surrogates, no unassigned code points.
     */
    public static boolean printable(String s) {
        if (s == null) {
            return false;
        }
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            switch (Character.getType(cp)) {
                case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                     Character.SURROGATE, Character.UNASSIGNED, Character.PRIVATE_USE -> {
                    return false;
                }
                default -> i += Character.charCount(cp);
            }
        }
        return true;
    }

    public boolean isAdmin() {
        return roles.contains(ADMIN_ROLE);
    }
}
