package io.vaultbroker.auth;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;

/**
 * Ed25519 with the JDK's own provider, from raw 32-byte keys as wallets hand them out. Stateless.
 */
final class Ed25519 {

    static final int PUBLIC_KEY_BYTES = 32;
    static final int SIGNATURE_BYTES = 64;

    /** Field prime 2^255 - 19. */
    private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
    /** Group order L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032). */
    private static final BigInteger L = BigInteger.TWO.pow(252)
            .add(new BigInteger("27742317777372353535851937790883648493"));

    private Ed25519() {
    }

    /**
     * RFC 8032 encoding: the little-endian y coordinate, whose top bit holds whether x is odd.
     *
     * @throws IllegalArgumentException when the bytes cannot be a public key
     */
    static PublicKey publicKey(byte[] raw) {
        if (raw == null || raw.length != PUBLIC_KEY_BYTES) {
            throw new IllegalArgumentException("an Ed25519 public key is 32 bytes");
        }
        boolean xOdd = (raw[PUBLIC_KEY_BYTES - 1] & 0x80) != 0;
        byte[] bigEndianY = new byte[PUBLIC_KEY_BYTES];
        for (int i = 0; i < PUBLIC_KEY_BYTES; i++) {
            bigEndianY[i] = raw[PUBLIC_KEY_BYTES - 1 - i];
        }
        bigEndianY[0] &= 0x7f;
        BigInteger y = new BigInteger(1, bigEndianY);
        if (y.compareTo(P) >= 0) {
            // Non-canonical: two spellings of one key would make two identities.
            throw new IllegalArgumentException("non-canonical Ed25519 public key");
        }
        try {
            KeyFactory factory = KeyFactory.getInstance("Ed25519");
            return factory.generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, new EdECPoint(xOdd, y)));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an Ed25519 public key", e);
        }
    }

    /** False for any signature that does not verify, including malformed ones and invalid key points. */
    static boolean verify(PublicKey key, byte[] message, byte[] signature) {
        if (signature == null || signature.length != SIGNATURE_BYTES || !scalarIsCanonical(signature)) {
            return false;
        }
        try {
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(key);
            verifier.update(message);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            // The JDK reports points off the curve as exceptions; to a caller they are just "does not verify".
            return false;
        }
    }

    /**
     * S (the second half, little-endian) must be below L. Otherwise S + L would verify too, and a
     * replay ledger keyed by signature could be walked around with a second spelling.
     */
    private static boolean scalarIsCanonical(byte[] signature) {
        byte[] bigEndianS = new byte[32];
        for (int i = 0; i < 32; i++) {
            bigEndianS[i] = signature[SIGNATURE_BYTES - 1 - i];
        }
        return new BigInteger(1, bigEndianS).compareTo(L) < 0;
    }
}
