package io.vaultbroker.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.util.Base64URL;

import java.security.PublicKey;
import java.util.Set;

/**
 * EdDSA (Ed25519) JWS verification with the JDK provider: nimbus' own Ed25519Verifier needs
 * Google Tink, which this project does not ship. Immutable; safe to share.
 */
final class JdkEd25519Verifier implements JWSVerifier {

    static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);

    private final PublicKey key;

    JdkEd25519Verifier(PublicKey key) {
        this.key = key;
    }

    @Override
    public boolean verify(JWSHeader header, byte[] signingInput, Base64URL signature) throws JOSEException {
        if (!ALGORITHMS.contains(header.getAlgorithm())) {
            throw new JOSEException("algorithm not supported by an Ed25519 key");
        }
        if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
            // We understand no critical extension, so RFC 7515 says reject.
            return false;
        }
        return Ed25519.verify(key, signingInput, signature.decode());
    }

    @Override
    public Set<JWSAlgorithm> supportedJWSAlgorithms() {
        return ALGORITHMS;
    }

    @Override
    public JCAContext getJCAContext() {
        // Nimbus asks for it; the JDK's default provider is used regardless.
        return new JCAContext();
    }
}
