package io.vaultbroker.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jca.JCAContext;
import com.nimbusds.jose.proc.JWSVerifierFactory;

import javax.crypto.SecretKey;
import java.security.Key;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECKey;
import java.security.interfaces.RSAPublicKey;
import java.security.PublicKey;
import java.util.HashSet;
import java.util.Set;

/**
 * Makes the JWS verifier for a selected key, by the key's Java type. Replaces nimbus' default
 * factory only to add Ed25519 through the JDK. Stateless.
 */
final class KeyFamilyVerifiers implements JWSVerifierFactory {

    private static final Set<JWSAlgorithm> ALGORITHMS = allAlgorithms();

    @Override
    public JWSVerifier createJWSVerifier(JWSHeader header, Key key) throws JOSEException {
        if (key instanceof SecretKey secret) {
            return new MACVerifier(secret);
        }
        if (key instanceof RSAPublicKey rsa) {
            return new RSASSAVerifier(rsa);
        }
        if (key instanceof ECPublicKey ec) {
            return new ECDSAVerifier(ec);
        }
        if (key instanceof EdECKey && key instanceof PublicKey edPublic) {
            return new JdkEd25519Verifier(edPublic);
        }
        throw new JOSEException("no verifier for key type " + key.getAlgorithm());
    }

    @Override
    public Set<JWSAlgorithm> supportedJWSAlgorithms() {
        return ALGORITHMS;
    }

    @Override
    public JCAContext getJCAContext() {
        return new JCAContext();
    }

    private static Set<JWSAlgorithm> allAlgorithms() {
        Set<JWSAlgorithm> all = new HashSet<>(Set.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512,
                JWSAlgorithm.RS256, JWSAlgorithm.ES256));
        all.addAll(JdkEd25519Verifier.ALGORITHMS);
        return Set.copyOf(all);
    }
}
