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
        roles = roles == null ? Set.of() : Set.copyOf(roles);
    }

    public boolean isAdmin() {
        return roles.contains(ADMIN_ROLE);
    }
}
