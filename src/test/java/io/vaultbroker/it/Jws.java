package io.vaultbroker.it;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import io.vaultbroker.auth.Base58;

/**
 * Hand-built JWS compact tokens and wallet signatures for the wire tests, signed with the JDK
 * alone, so a test can also build the malformed ones (alg none, tampered, confused algorithms).
 */
final class Jws {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private Jws() {
    }

    static String b64(String json) {
        return B64.encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    static String header(String alg, String kid) {
        return "{\"alg\":\"" + alg + "\"" + (kid == null ? "" : ",\"kid\":\"" + kid + "\"") + ",\"typ\":\"JWT\"}";
    }

    /** Claims with sub, exp and optional iss/aud/nbf; times in unix seconds, null leaves them out. */
    static String claims(String sub, Long exp, Long nbf, String iss, String aud, String... roles) {
        StringBuilder b = new StringBuilder("{\"sub\":\"").append(sub).append('"');
        if (exp != null) {
            b.append(",\"exp\":").append(exp);
        }
        if (nbf != null) {
            b.append(",\"nbf\":").append(nbf);
        }
        if (iss != null) {
            b.append(",\"iss\":\"").append(iss).append('"');
        }
        if (aud != null) {
            b.append(",\"aud\":\"").append(aud).append('"');
        }
        b.append(",\"iat\":").append(now()).append(",\"roles\":[");
        for (int i = 0; i < roles.length; i++) {
            b.append(i == 0 ? "" : ",").append('"').append(roles[i]).append('"');
        }
        return b.append("]}").toString();
    }

    static long now() {
        return System.currentTimeMillis() / 1000;
    }

    static String hs256(byte[] secret, String header, String claims) {
        String input = b64(header) + "." + b64(claims);
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return input + "." + B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    /** JDK algorithms: SHA256withRSA, SHA256withECDSAinP1363Format (JOSE's R||S), Ed25519. */
    static String signed(String jdkAlgorithm, PrivateKey key, String header, String claims) {
        String input = b64(header) + "." + b64(claims);
        return input + "." + B64.encodeToString(sign(jdkAlgorithm, key, input.getBytes(StandardCharsets.US_ASCII)));
    }

    static byte[] sign(String jdkAlgorithm, PrivateKey key, byte[] data) {
        try {
            Signature s = Signature.getInstance(jdkAlgorithm);
            s.initSign(key);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static KeyPair keyPair(String algorithm) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance(algorithm);
            if (algorithm.equals("RSA")) {
                g.initialize(2048);
            } else if (algorithm.equals("EC")) {
                g.initialize(new ECGenParameterSpec("secp256r1"));
            }
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static String pem(PublicKey key) {
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(key.getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    /** The wallet's pubkey: base58 of the raw 32 bytes, the tail of the SPKI encoding. */
    static String walletPubkey(KeyPair ed25519) {
        byte[] spki = ed25519.getPublic().getEncoded();
        return Base58.encode(Arrays.copyOfRange(spki, spki.length - 32, spki.length));
    }

    /** Base58 Ed25519 signature over DESIGN §2's sign-in message. */
    static String walletSignature(KeyPair ed25519, String host, long signedAt) {
        byte[] message = ("vault-broker sign-in\nhost:" + host + "\nsigned-at:" + signedAt).getBytes(StandardCharsets.UTF_8);
        return Base58.encode(sign("Ed25519", ed25519.getPrivate(), message));
    }
}
