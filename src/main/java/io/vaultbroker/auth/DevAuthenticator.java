package io.vaultbroker.auth;

import java.util.Set;

/**
 * {@code auth.mode: none}, for local development only: any non-empty {@code login} is the
 * subject, nothing is verified, and the login {@code admin} (exactly) gets the admin role.
 * Roles are deliberately not read from CONNECT headers, so a dev setup cannot teach clients a
 * header that would matter anywhere else. Stateless.
 */
final class DevAuthenticator implements Authenticator {

    @Override
    public Principal authenticate(Credentials c) throws AuthException {
        String login = c == null ? null : c.login();
        if (login == null || login.isBlank()) {
            throw new AuthException("missing").of("dev");
        }
        if (!Principal.printable(login)) {
            throw new AuthException("bad-subject").of("dev");
        }
        Set<String> roles = Principal.ADMIN_ROLE.equals(login) ? Set.of(Principal.ADMIN_ROLE) : Set.of();
        return new Principal(login, roles, null, "dev");
    }
}
