package io.vaultbroker.auth;

/**
 * What a CONNECT frame offers; any field may be null. Immutable.
 *
 * @param login         CONNECT {@code login}: the pubkey for wallet sign-in, anything for JWT
 * @param passcode      CONNECT {@code passcode}: a JWT, or a base58 signature for wallet sign-in
 * @param authorization raw {@code Authorization} header value of the CONNECT frame
 * @param signedAt      CONNECT {@code x-signed-at}; its presence makes this a wallet sign-in
 * @param host          CONNECT {@code host} header
 * @param upgradeHost   HTTP {@code Host} header of the WebSocket upgrade (with its port, if any); the
 *                      client chooses it, so no authenticator trusts it
 */
public record Credentials(String login,
                          String passcode,
                          String authorization,
                          String signedAt,
                          String host,
                          String upgradeHost) {

    /** Redacts passcode and authorization: a credential record must be safe to log by accident. */
    @Override
    public String toString() {
        return "Credentials[login=" + login
                + ", passcode=" + redacted(passcode)
                + ", authorization=" + redacted(authorization)
                + ", signedAt=" + signedAt
                + ", host=" + host
                + ", upgradeHost=" + upgradeHost + "]";
    }

    private static String redacted(String secret) {
        return secret == null ? "null" : "<redacted>";
    }
}
