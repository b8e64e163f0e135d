package io.vaultbroker.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Keys, tokens and config for the auth tests. */
final class TestSupport {

    static final Instant NOW = Instant.parse("2025-12-08T21:30:00Z");
    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    private TestSupport() {
    }

    /** The {@code auth} node of a YAML document whose root is {@code auth:}. */
    static Config authConfig(String yaml) {
        return Config.just(ConfigSources.create(yaml, MediaTypes.APPLICATION_X_YAML)).get("auth");
    }

    static KeyPair keyPair(String algorithm, int bits) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            if (bits > 0) {
                generator.initialize(bits);
            }
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static KeyPair ed25519() {
        return keyPair("Ed25519", 0);
    }

    /** Raw 32-byte Ed25519 public key: the tail of the 44-byte SPKI encoding. */
    static byte[] rawEd25519(PublicKey key) {
        byte[] spki = key.getEncoded();
        return Arrays.copyOfRange(spki, spki.length - 32, spki.length);
    }

    static String pubkey(KeyPair ed) {
        return Base58.encode(rawEd25519(ed.getPublic()));
    }

    static String pem(PublicKey key) {
        return "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    static byte[] sign(String algorithm, PrivateKey key, byte[] data) {
        try {
            Signature signature = Signature.getInstance(algorithm);
            signature.initSign(key);
            signature.update(data);
            return signature.sign();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static String signed(JWSHeader header, JWTClaimsSet claims, JWSSigner signer) {
        SignedJWT jwt = new SignedJWT(header, claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new AssertionError(e);
        }
        return jwt.serialize();
    }

    /** A compact JWS assembled by hand, for algorithms nimbus will not sign with here (none, EdDSA via JDK). */
    static String compact(String headerJson, String claimsJson, byte[] signature) {
        return Base64URL.encode(headerJson.getBytes(StandardCharsets.UTF_8)) + "."
                + Base64URL.encode(claimsJson.getBytes(StandardCharsets.UTF_8)) + "."
                + (signature.length == 0 ? "" : Base64URL.encode(signature).toString());
    }

    static String signingInput(String headerJson, String claimsJson) {
        return Base64URL.encode(headerJson.getBytes(StandardCharsets.UTF_8)) + "."
                + Base64URL.encode(claimsJson.getBytes(StandardCharsets.UTF_8));
    }

    static Credentials passcode(String token) {
        return new Credentials("anyone", token, null, null, null, null);
    }

    /** In-memory ledger, as the database one behaves for a single instance. */
    static final class MemoryLedger implements SignatureLedger {
        final Map<String, java.time.Duration> seen = new ConcurrentHashMap<>();

        @Override
        public boolean firstUse(String signatureBase58, java.time.Duration keepFor) {
            return seen.putIfAbsent(signatureBase58, keepFor) == null;
        }
    }
}
