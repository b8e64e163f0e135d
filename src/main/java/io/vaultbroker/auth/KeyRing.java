package io.vaultbroker.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.SecurityContext;

import java.security.Key;
import java.util.ArrayList;
import java.util.List;

/**
 * The configured verification keys and the rule that picks candidates for a token. Immutable.
 *
 * <p>Rule: a key is a candidate when it allows the token's {@code alg} and either side has no
 * kid or the kids are equal. So a token without a kid is tried against every key of the
 * matching family, and a token whose kid is configured only meets that key.
 */
final class KeyRing implements JWSKeySelector<SecurityContext> {

    private final List<VerificationKey> keys;

    KeyRing(List<VerificationKey> keys) {
        this.keys = List.copyOf(keys);
    }

    List<VerificationKey> keys() {
        return keys;
    }

    boolean isEmpty() {
        return keys.isEmpty();
    }

    List<VerificationKey> candidates(JWSAlgorithm algorithm, String kid) {
        List<VerificationKey> out = new ArrayList<>();
        for (VerificationKey key : keys) {
            if (key.matches(algorithm, kid)) {
                out.add(key);
            }
        }
        return out;
    }

    /** Why {@link #candidates} came back empty, as an {@link AuthException} category. */
    String whyNoCandidate(JWSAlgorithm algorithm, String kid) {
        boolean algorithmKnown = false;
        boolean kidKnown = false;
        for (VerificationKey key : keys) {
            algorithmKnown |= key.algorithms().contains(algorithm);
            kidKnown |= kid != null && kid.equals(key.kid());
        }
        if (!algorithmKnown || kidKnown) {
            return "bad-algorithm";
        }
        return "unknown-kid";
    }

    @Override
    public List<? extends Key> selectJWSKeys(JWSHeader header, SecurityContext context) {
        List<Key> out = new ArrayList<>();
        for (VerificationKey key : candidates(header.getAlgorithm(), header.getKeyID())) {
            out.add(key.key());
        }
        return out;
    }
}
