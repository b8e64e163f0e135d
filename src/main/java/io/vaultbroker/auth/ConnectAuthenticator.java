package io.vaultbroker.auth;

/**
 * {@code auth.mode: jwt}: a CONNECT with {@code x-signed-at} is a wallet sign-in, any other a JWT
 * (DESIGN.md, "Authentication"). Immutable; safe to share.
 */
final class ConnectAuthenticator implements Authenticator {

    private final JwtAuthenticator jwt;
    private final WalletAuthenticator wallet;

    /** @param wallet null when wallet sign-in is disabled */
    ConnectAuthenticator(JwtAuthenticator jwt, WalletAuthenticator wallet) {
        this.jwt = jwt;
        this.wallet = wallet;
    }

    @Override
    public Principal authenticate(Credentials c) throws AuthException {
        if (c == null) {
            throw new AuthException("missing").of("jwt");
        }
        if (c.signedAt() != null) {
            if (wallet == null) {
                throw new AuthException("wallet-disabled").of("wallet");
            }
            try {
                return wallet.authenticate(c);
            } catch (AuthException e) {
                throw e.of("wallet");
            }
        }
        try {
            return jwt.authenticate(c);
        } catch (AuthException e) {
            throw e.of("jwt");
        }
    }
}
