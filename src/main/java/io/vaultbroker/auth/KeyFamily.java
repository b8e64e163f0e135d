package io.vaultbroker.auth;

/**
 * The kind of a verification key. A key verifies only its own family's algorithms, which is what
 * defeats algorithm confusion (an RSA public key used as an HMAC secret, for example).
 */
enum KeyFamily {
    HMAC,
    RSA,
    EC_P256,
    ED25519
}
