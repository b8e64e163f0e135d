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
            throw new AuthException("missing");
        }
        if (c.signedAt() != null) {
            if (wallet == null) {
                throw new AuthException("wallet-disabled");
            }
            return wallet.authenticate(c);
        }
        return jwt.authenticate(c);
    }
}
