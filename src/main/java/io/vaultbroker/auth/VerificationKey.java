package io.vaultbroker.auth;

import com.nimbusds.jose.JWSAlgorithm;

import java.security.Key;
import java.util.Objects;
import java.util.Set;

/**
 * One configured key that may verify tokens. Immutable.
 *
 * @param kid        the key id tokens name it by; null for the single {@code auth.jwt.secret}, which
 *                   then matches tokens with any kid or none
 * @param family     what kind of key it is
 * @param key        the secret or public key
 * @param algorithms the only JWS algorithms this key may verify
 */
record VerificationKey(String kid, KeyFamily family, Key key, Set<JWSAlgorithm> algorithms) {

    VerificationKey {
        Objects.requireNonNull(family, "family");
        Objects.requireNonNull(key, "key");
        algorithms = Set.copyOf(algorithms);
    }

    boolean matches(JWSAlgorithm algorithm, String tokenKid) {
        if (!algorithms.contains(algorithm)) {
            return false;
        }
        return kid == null || tokenKid == null || kid.equals(tokenKid);
    }

    /** Never prints key material. */
    @Override
    public String toString() {
        return "VerificationKey[kid=" + kid + ", family=" + family + ", algorithms=" + algorithms + "]";
    }
}
