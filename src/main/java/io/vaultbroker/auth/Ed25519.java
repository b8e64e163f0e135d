package io.vaultbroker.auth;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;

/**
 * Ed25519 with the JDK's own provider, from raw 32-byte keys as wallets hand them out, verified
 * strictly (RFC 8032 section 5.1.7 plus the small-order rule): the JDK alone accepts a key that is
 * one of the eight small-order points, for which a forged signature verifies for every message.
 * So public keys and signature points {@code R} must be canonical encodings of points on the curve
 * and not of small order, and {@code S} must be below L. Stateless.
 */
final class Ed25519 {

    static final int PUBLIC_KEY_BYTES = 32;
    static final int SIGNATURE_BYTES = 64;

    /** Field prime 2^255 - 19. */
    static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
    /** Group order L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032). */
    static final BigInteger L = BigInteger.TWO.pow(252)
            .add(new BigInteger("27742317777372353535851937790883648493"));
    /** Curve constant d = -121665 / 121666. */
    private static final BigInteger D = BigInteger.valueOf(-121665)
            .multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);
    /** A square root of -1: 2^((p-1)/4). */
    private static final BigInteger SQRT_M1 = BigInteger.TWO.modPow(P.subtract(BigInteger.ONE).shiftRight(2), P);

    /** An affine point of the curve -x^2 + y^2 = 1 + d x^2 y^2. Immutable. */
    record Point(BigInteger x, BigInteger y) {
        static final Point IDENTITY = new Point(BigInteger.ZERO, BigInteger.ONE);

        /** The group law (complete for this curve, so it also doubles). */
        Point add(Point o) {
            BigInteger xx = x.multiply(o.x).mod(P);
            BigInteger yy = y.multiply(o.y).mod(P);
            BigInteger dxxyy = D.multiply(xx).multiply(yy).mod(P);
            BigInteger x3 = x.multiply(o.y).add(y.multiply(o.x))
                    .multiply(BigInteger.ONE.add(dxxyy).modInverse(P)).mod(P);
            BigInteger y3 = yy.add(xx).multiply(BigInteger.ONE.subtract(dxxyy).mod(P).modInverse(P)).mod(P);
            return new Point(x3, y3);
        }

        /** True for the eight points whose order divides the cofactor 8. */
        boolean smallOrder() {
            Point p8 = add(this);
            p8 = p8.add(p8);
            p8 = p8.add(p8);
            return p8.equals(IDENTITY);
        }

        byte[] encode() {
            byte[] out = new byte[PUBLIC_KEY_BYTES];
            byte[] big = y.toByteArray();
            for (int i = 0; i < big.length && i < PUBLIC_KEY_BYTES; i++) {
                out[i] = big[big.length - 1 - i];
            }
            if (x.testBit(0)) {
                out[PUBLIC_KEY_BYTES - 1] |= (byte) 0x80;
            }
            return out;
        }
    }

    private Ed25519() {
    }

    /**
     * RFC 8032 decoding, strictly: the little-endian y (top bit: whether x is odd) must be below p,
     * must have an x on the curve, and "x = 0 but odd" is refused.
     *
     * @return the point, or null when the 32 bytes encode none canonically
     */
    static Point decode(byte[] raw, int offset) {
        if (raw == null || raw.length < offset + PUBLIC_KEY_BYTES) {
            return null;
        }
        boolean xOdd = (raw[offset + PUBLIC_KEY_BYTES - 1] & 0x80) != 0;
        BigInteger y = littleEndian(raw, offset, PUBLIC_KEY_BYTES, true);
        if (y.compareTo(P) >= 0) {
            return null;
        }
        BigInteger yy = y.multiply(y).mod(P);
        BigInteger u = yy.subtract(BigInteger.ONE).mod(P);
        BigInteger v = D.multiply(yy).add(BigInteger.ONE).mod(P);
        BigInteger xx = u.multiply(v.modInverse(P)).mod(P);
        BigInteger x = xx.modPow(P.add(BigInteger.valueOf(3)).shiftRight(3), P);
        if (!x.multiply(x).mod(P).equals(xx)) {
            x = x.multiply(SQRT_M1).mod(P);
            if (!x.multiply(x).mod(P).equals(xx)) {
                return null;
            }
        }
        if (x.signum() == 0 && xOdd) {
            return null;
        }
        if (x.testBit(0) != xOdd) {
            x = P.subtract(x);
        }
        return new Point(x, y);
    }

    /**
     * A public key from its 32 raw bytes.
     *
     * @throws IllegalArgumentException when the bytes are not a canonical encoding of a point of
     *                                  large order (small-order keys sign for anyone)
     */
    static PublicKey publicKey(byte[] raw) {
        if (raw == null || raw.length != PUBLIC_KEY_BYTES) {
            throw new IllegalArgumentException("an Ed25519 public key is 32 bytes");
        }
        Point a = decode(raw, 0);
        if (a == null) {
            throw new IllegalArgumentException("not a canonical Ed25519 point");
        }
        if (a.smallOrder()) {
            throw new IllegalArgumentException("small-order Ed25519 public key");
        }
        try {
            KeyFactory factory = KeyFactory.getInstance("Ed25519");
            return factory.generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519,
                    new EdECPoint(a.x().testBit(0), a.y())));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an Ed25519 public key", e);
        }
    }

    /**
     * False for any signature that does not verify, including malformed ones, non-canonical or
     * small-order R, S at or above L, and keys (from any source: wallet, PEM, JWKS) that are
     * small-order points.
     */
    static boolean verify(PublicKey key, byte[] message, byte[] signature) {
        if (signature == null || signature.length != SIGNATURE_BYTES || !scalarIsCanonical(signature)) {
            return false;
        }
        if (!(key instanceof EdECPublicKey ed) || !largeOrder(ed.getPoint())) {
            return false;
        }
        Point r = decode(signature, 0);
        if (r == null || r.smallOrder()) {
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

    // A key loaded from PEM or JWKS arrives as the JDK's (xOdd, y); re-check it as wallet keys are.
    private static boolean largeOrder(EdECPoint point) {
        BigInteger y = point.getY();
        if (y.signum() < 0 || y.compareTo(P) >= 0) {
            return false;
        }
        byte[] raw = new Point(point.isXOdd() ? BigInteger.ONE : BigInteger.ZERO, y).encode();
        Point a = decode(raw, 0);
        return a != null && !a.smallOrder();
    }

    /**
     * S (the second half, little-endian) must be below L. Otherwise S + L would verify too, and a
     * replay ledger keyed by signature could be walked around with a second spelling.
     */
    private static boolean scalarIsCanonical(byte[] signature) {
        return littleEndian(signature, 32, 32, false).compareTo(L) < 0;
    }

    private static BigInteger littleEndian(byte[] bytes, int offset, int length, boolean clearTopBit) {
        byte[] big = new byte[length];
        for (int i = 0; i < length; i++) {
            big[i] = bytes[offset + length - 1 - i];
        }
        if (clearTopBit) {
            big[0] &= 0x7f;
        }
        return new BigInteger(1, big);
    }
}
