package io.vaultbroker.auth;

import com.nimbusds.jose.Algorithm;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import io.helidon.config.Config;

import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads verification keys from the {@code auth.jwt} config node. Every problem is an
 * {@link IllegalStateException} naming the key to fix; no message ever contains key material.
 * Stateless.
 */
final class KeyLoader {

    /** RFC 7518 3.2: an HMAC key at least as long as the hash output. */
    static final int MIN_HMAC_BYTES = 32;
    static final int MIN_RSA_BITS = 2048;

    private static final String PEM_BEGIN = "-----BEGIN PUBLIC KEY-----";
    private static final String PEM_END = "-----END PUBLIC KEY-----";

    private KeyLoader() {
    }

    static KeyRing load(Config jwt) {
        List<VerificationKey> keys = new ArrayList<>();

        String secret = jwt.get("secret").asString().orElse("");
        if (!secret.isBlank()) {
            keys.add(hmac(null, secret, "auth.jwt.secret (env AUTH_JWT_SECRET)"));
        }

        List<Config> secrets = jwt.get("secrets").asNodeList().orElse(List.of());
        for (int i = 0; i < secrets.size(); i++) {
            String where = "auth.jwt.secrets[" + i + "]";
            Config entry = secrets.get(i);
            keys.add(hmac(required(entry, "kid", where), required(entry, "secret", where), where));
        }

        List<Config> publicKeys = jwt.get("public-keys").asNodeList().orElse(List.of());
        for (int i = 0; i < publicKeys.size(); i++) {
            String where = "auth.jwt.public-keys[" + i + "]";
            Config entry = publicKeys.get(i);
            keys.add(fromPem(required(entry, "kid", where), pemText(entry, where), where));
        }

        String jwksFile = jwt.get("jwks-file").asString().orElse("");
        if (!jwksFile.isBlank()) {
            keys.addAll(fromJwksFile(Path.of(jwksFile)));
        }

        Set<String> kids = new HashSet<>();
        for (VerificationKey key : keys) {
            if (key.kid() != null && !kids.add(key.kid())) {
                throw new IllegalStateException("auth.jwt: key id '" + key.kid()
                        + "' is configured twice; each kid must name one key");
            }
        }
        return new KeyRing(keys);
    }

    static VerificationKey hmac(String kid, String secret, String where) {
        byte[] bytes = secret.getBytes(StandardCharsets.UTF_8);
        if (bytes.length < MIN_HMAC_BYTES) {
            throw new IllegalStateException(where + " is " + bytes.length + " bytes; an HMAC secret must be at least "
                    + MIN_HMAC_BYTES + " bytes (use e.g. `openssl rand -base64 48`)");
        }
        Set<JWSAlgorithm> algorithms = new HashSet<>();
        algorithms.add(JWSAlgorithm.HS256);
        if (bytes.length >= 48) {
            algorithms.add(JWSAlgorithm.HS384);
        }
        if (bytes.length >= 64) {
            algorithms.add(JWSAlgorithm.HS512);
        }
        return new VerificationKey(kid, KeyFamily.HMAC, new SecretKeySpec(bytes, "HMAC"), algorithms);
    }

    static VerificationKey fromPem(String kid, String pem, String where) {
        String text = pem.strip();
        int begin = text.indexOf(PEM_BEGIN);
        int end = text.indexOf(PEM_END);
        if (begin < 0 || end < begin) {
            throw new IllegalStateException(where + ": expected a '" + PEM_BEGIN + "' block (SPKI, as "
                    + "`openssl pkey -pubout` writes it); PKCS#1 'RSA PUBLIC KEY' and certificates are not accepted");
        }
        String base64 = text.substring(begin + PEM_BEGIN.length(), end).replaceAll("\\s", "");
        X509EncodedKeySpec spec;
        try {
            spec = new X509EncodedKeySpec(Base64.getDecoder().decode(base64));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(where + ": the PEM body is not valid base64");
        }
        for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
            PublicKey key;
            try {
                key = KeyFactory.getInstance(algorithm).generatePublic(spec);
            } catch (GeneralSecurityException e) {
                continue;
            }
            return fromPublicKey(kid, key, where);
        }
        throw new IllegalStateException(where + ": not an RSA, EC P-256 or Ed25519 public key");
    }

    static VerificationKey fromPublicKey(String kid, PublicKey key, String where) {
        if (key instanceof RSAPublicKey rsa) {
            if (rsa.getModulus().bitLength() < MIN_RSA_BITS) {
                throw new IllegalStateException(where + ": RSA keys must have at least " + MIN_RSA_BITS + " bits");
            }
            return new VerificationKey(kid, KeyFamily.RSA, rsa, Set.of(JWSAlgorithm.RS256));
        }
        if (key instanceof ECPublicKey ec) {
            if (!Curve.P_256.equals(Curve.forECParameterSpec(ec.getParams()))) {
                throw new IllegalStateException(where + ": only EC keys on curve P-256 (ES256) are supported");
            }
            return new VerificationKey(kid, KeyFamily.EC_P256, ec, Set.of(JWSAlgorithm.ES256));
        }
        if (key instanceof EdECPublicKey ed) {
            if (!"Ed25519".equalsIgnoreCase(ed.getParams().getName())) {
                throw new IllegalStateException(where + ": only Ed25519 EdDSA keys are supported");
            }
            return new VerificationKey(kid, KeyFamily.ED25519, ed, JdkEd25519Verifier.ALGORITHMS);
        }
        throw new IllegalStateException(where + ": unsupported key type " + key.getAlgorithm());
    }

    static List<VerificationKey> fromJwksFile(Path file) {
        String where = "auth.jwt.jwks-file (" + file + ")";
        JWKSet set;
        try {
            set = JWKSet.load(file.toFile());
        } catch (IOException e) {
            throw new IllegalStateException(where + ": cannot read: " + e.getMessage());
        } catch (ParseException e) {
            // The parser's message may quote the file, which could hold private key material.
            throw new IllegalStateException(where + ": not a valid JWK set (JSON with a \"keys\" array)");
        }
        List<VerificationKey> keys = new ArrayList<>();
        for (JWK jwk : set.getKeys()) {
            if (KeyUse.ENCRYPTION.equals(jwk.getKeyUse())) {
                // An identity provider's set may list encryption keys too; they never sign tokens.
                continue;
            }
            String kid = jwk.getKeyID();
            if (kid == null || kid.isBlank()) {
                throw new IllegalStateException(where + ": every signing key needs a \"kid\"");
            }
            String keyWhere = where + " kid '" + kid + "'";
            VerificationKey key = fromPublicKey(kid, publicKeyOf(jwk, keyWhere), keyWhere);
            Algorithm declared = jwk.getAlgorithm();
            if (declared != null && !key.algorithms().contains(JWSAlgorithm.parse(declared.getName()))) {
                throw new IllegalStateException(keyWhere + ": \"alg\" " + declared.getName()
                        + " does not fit a " + key.family() + " key");
            }
            keys.add(key);
        }
        return keys;
    }

    private static PublicKey publicKeyOf(JWK jwk, String where) {
        try {
            if (jwk instanceof RSAKey rsa) {
                return rsa.toRSAPublicKey();
            }
            if (jwk instanceof ECKey ec) {
                return ec.toECPublicKey();
            }
            if (jwk instanceof OctetKeyPair okp && Curve.Ed25519.equals(okp.getCurve())) {
                return Ed25519.publicKey(okp.getX().decode());
            }
        } catch (JOSEException | IllegalArgumentException e) {
            throw new IllegalStateException(where + ": invalid key: " + e.getMessage());
        }
        throw new IllegalStateException(where + ": key type " + jwk.getKeyType()
                + " is not supported (RSA, EC P-256 and OKP Ed25519 are; shared secrets go in auth.jwt.secrets)");
    }

    private static String pemText(Config entry, String where) {
        String inline = entry.get("pem").asString().orElse("");
        String file = entry.get("pem-file").asString().orElse("");
        if (inline.isBlank() == file.isBlank()) {
            throw new IllegalStateException(where + ": set exactly one of 'pem' and 'pem-file'");
        }
        if (!inline.isBlank()) {
            return inline;
        }
        try {
            return Files.readString(Path.of(file), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException(where + ".pem-file: cannot read " + file + ": " + e.getMessage());
        }
    }

    private static String required(Config entry, String key, String where) {
        String value = entry.get(key).asString().orElse("");
        if (value.isBlank()) {
            throw new IllegalStateException(where + "." + key + " is required");
        }
        return value;
    }
}
