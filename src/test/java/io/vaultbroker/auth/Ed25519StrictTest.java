package io.vaultbroker.auth;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import static io.vaultbroker.auth.TestSupport.CLOCK;
import static io.vaultbroker.auth.TestSupport.NOW;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Strict RFC 8032 verification: every encoding of a small-order point is refused as a wallet key,
 * with a signature forged for it that the JDK alone accepts (so each refusal is ours, not luck);
 * small-order and non-canonical R, and S at or above L, are refused too.
 */
class Ed25519StrictTest {
    private static final String HOST = "app.example";
    private static final HexFormat HEX = HexFormat.of();
    private static final Ed25519.Point B = Ed25519.decode(
            HEX.parseHex("5866666666666666666666666666666666666666666666666666666666666666"), 0);

    /** Canonical encodings of the eight points of order 1, 2, 4 and 8. */
    static final List<String> CANONICAL_SMALL_ORDER = List.of(
            "0100000000000000000000000000000000000000000000000000000000000000",   // identity, order 1
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",   // (0, -1), order 2
            "0000000000000000000000000000000000000000000000000000000000000000",   // order 4
            "0000000000000000000000000000000000000000000000000000000000000080",   // order 4
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",   // order 8
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",   // order 8
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",   // order 8
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa");  // order 8

    /** Non-canonical spellings of small-order points: x = 0 "odd", and y at or above p. */
    static final List<String> NON_CANONICAL_SMALL_ORDER = List.of(
            "0100000000000000000000000000000000000000000000000000000000000080",   // identity, sign bit set
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",   // (0, -1), sign bit set
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",   // y = p (= 0)
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",   // y = p, sign bit set
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",   // y = p + 1 (= 1)
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");  // y = p + 1, sign bit set

    @Test
    void theListsAreTheSmallOrderPoints() {
        List<Ed25519.Point> points = new ArrayList<>();
        for (String hex : CANONICAL_SMALL_ORDER) {
            Ed25519.Point p = Ed25519.decode(HEX.parseHex(hex), 0);
            assertNotNull(p, hex);
            assertTrue(p.smallOrder(), hex);
            assertEquals(hex, HEX.formatHex(p.encode()), "canonical");
            points.add(p);
        }
        assertEquals(8, points.stream().distinct().count(), "eight distinct torsion points");
        for (String hex : NON_CANONICAL_SMALL_ORDER) {
            assertNull(Ed25519.decode(HEX.parseHex(hex), 0), hex);
        }
        // The two keys the issue reproduced with.
        assertEquals("0000000000000000000000000000000000000000000000000000000000000000",
                HEX.formatHex(Base58.decode("11111111111111111111111111111111")));
        assertEquals(CANONICAL_SMALL_ORDER.getFirst(),
                HEX.formatHex(Base58.decode("4uQeVj5tqViQh7yWWGStvkEG1Zmhx6uasJtWCJziofM")));
        // An honest key is not refused by the small-order rule.
        KeyPair honest = TestSupport.ed25519();
        assertFalse(Ed25519.decode(TestSupport.rawEd25519(honest.getPublic()), 0).smallOrder());
    }

    @Test
    void everySmallOrderKeyIsRefusedWithAForgedSignatureTheJdkAccepts() throws Exception {
        long seed = System.nanoTime();
        System.out.println("Ed25519StrictTest seed " + seed);
        Random random = new Random(seed);
        Authenticator authenticator = wallet();
        String at = Long.toString(NOW.getEpochSecond());
        byte[] message = WalletAuthenticator.message(HOST, at);
        for (String hex : CANONICAL_SMALL_ORDER) {
            byte[] a = HEX.parseHex(hex);
            byte[] signature = forge(a, message, random);
            // Without our checks this signature verifies: the JDK's own verifier takes it.
            assertTrue(jdkVerifies(a, message, signature), "the forgery is a real one for " + hex);
            assertFalse(Ed25519.verify(jdkKey(a), message, signature), hex);
            assertThrows(IllegalArgumentException.class, () -> Ed25519.publicKey(a), hex);
            refuse(authenticator, a, signature, at, "weak-key");
        }
        for (String hex : NON_CANONICAL_SMALL_ORDER) {
            byte[] a = HEX.parseHex(hex);
            // Forged for the point the bytes would mean if reduced (y mod p, the sign bit as given).
            byte[] signature = forge(a, message, random);
            assertThrows(IllegalArgumentException.class, () -> Ed25519.publicKey(a), hex);
            refuse(authenticator, a, signature, at, "malformed");
        }
    }

    @Test
    void aSmallOrderOrNonCanonicalRIsRefusedEvenForAnHonestKey() throws Exception {
        // With the private scalar at hand, R = identity and S = k·a verify the cofactorless equation.
        KeyPair wallet = TestSupport.ed25519();
        byte[] a = TestSupport.rawEd25519(wallet.getPublic());
        BigInteger scalar = privateScalar((EdECPrivateKey) wallet.getPrivate());
        String at = Long.toString(NOW.getEpochSecond());
        byte[] message = WalletAuthenticator.message(HOST, at);
        for (String r : List.of(CANONICAL_SMALL_ORDER.getFirst(), NON_CANONICAL_SMALL_ORDER.get(4))) {
            byte[] rBytes = HEX.parseHex(r);
            BigInteger k = challenge(rBytes, a, message);
            byte[] signature = concat(rBytes, littleEndian(k.multiply(scalar).mod(Ed25519.L)));
            if (r.equals(CANONICAL_SMALL_ORDER.getFirst())) {
                assertTrue(jdkVerifies(a, message, signature), "the JDK alone accepts R = identity");
            }
            assertFalse(Ed25519.verify(wallet.getPublic(), message, signature), r);
            refuse(wallet(), a, signature, at, "bad-signature");
        }
        // The same key's real signature still verifies.
        byte[] real = TestSupport.sign("Ed25519", wallet.getPrivate(), message);
        assertTrue(Ed25519.verify(wallet.getPublic(), message, real));
    }

    @Test
    void aPublicKeyWithYAtOrAboveTheFieldPrimeIsRefused() {
        // y = p + 2 would reduce to the point with y = 2 if taken modulo p: a second spelling.
        byte[] raw = littleEndian(Ed25519.P.add(BigInteger.TWO));
        assertNull(Ed25519.decode(raw, 0));
        assertThrows(IllegalArgumentException.class, () -> Ed25519.publicKey(raw));
    }

    @Test
    void sAtOrAboveLIsRefused() {
        KeyPair wallet = TestSupport.ed25519();
        byte[] message = "m".getBytes(StandardCharsets.UTF_8);
        byte[] real = TestSupport.sign("Ed25519", wallet.getPrivate(), message);
        BigInteger s = new BigInteger(1, reverse(Arrays.copyOfRange(real, 32, 64)));
        assertTrue(Ed25519.verify(wallet.getPublic(), message, real));
        byte[] twin = concat(Arrays.copyOf(real, 32), littleEndian(s.add(Ed25519.L)));
        assertFalse(Ed25519.verify(wallet.getPublic(), message, twin));
        byte[] atL = concat(Arrays.copyOf(real, 32), littleEndian(Ed25519.L));
        assertFalse(Ed25519.verify(wallet.getPublic(), message, atL));
    }

    // ---------------------------------------------------------------- helpers

    private static Authenticator wallet() {
        return Authenticators.create(TestSupport.authConfig("""
                auth:
                  jwt:
                    secret: 0123456789abcdef0123456789abcdef
                  wallet:
                    hosts: [ "%s" ]
                """.formatted(HOST)), new TestSupport.MemoryLedger(), CLOCK);
    }

    private static void refuse(Authenticator authenticator, byte[] key, byte[] signature, String at, String category) {
        Credentials c = new Credentials(Base58.encode(key), Base58.encode(signature), null, at, HOST, HOST);
        if (!Access.isPubkey(c.login())) {
            // Base58 of 32 bytes whose spelling Access refuses before any point is decoded.
            category = "malformed";
        }
        AuthException e = assertThrows(AuthException.class, () -> authenticator.authenticate(c), HEX.formatHex(key));
        assertThat(HEX.formatHex(key), e.category(), is(category));
        assertThat(e.credential(), is("wallet"));
    }

    /**
     * R = [s]B + T for a torsion point T, S = s: valid when T = -[k]A, which for a small-order A
     * holds for one T in eight; the search is over s (seeded) and T.
     */
    private static byte[] forge(byte[] aBytes, byte[] message, Random random) throws Exception {
        Ed25519.Point a = reduced(aBytes);
        List<Ed25519.Point> torsion = CANONICAL_SMALL_ORDER.stream()
                .map(h -> Ed25519.decode(HEX.parseHex(h), 0)).toList();
        for (int attempt = 0; attempt < 500; attempt++) {
            BigInteger s = new BigInteger(252, random).mod(Ed25519.L);
            for (Ed25519.Point t : torsion) {
                byte[] r = multiply(B, s).add(t).encode();
                BigInteger k = challenge(r, aBytes, message);
                if (multiply(a, k).add(t).equals(Ed25519.Point.IDENTITY)) {
                    return concat(r, littleEndian(s));
                }
            }
        }
        throw new AssertionError("no forgery found for " + HEX.formatHex(aBytes));
    }

    /** The point non-canonical bytes would mean if y were taken modulo p. */
    private static Ed25519.Point reduced(byte[] aBytes) {
        BigInteger y = new BigInteger(1, reverse(aBytes)).clearBit(255).mod(Ed25519.P);
        byte[] canonical = littleEndian(y);
        canonical[31] |= (byte) (aBytes[31] & 0x80);
        Ed25519.Point p = Ed25519.decode(canonical, 0);
        if (p == null) {
            // x = 0 "odd": the point is (0, y) itself.
            canonical[31] &= 0x7f;
            p = Ed25519.decode(canonical, 0);
        }
        return p;
    }

    private static Ed25519.Point multiply(Ed25519.Point p, BigInteger k) {
        Ed25519.Point result = Ed25519.Point.IDENTITY;
        for (int i = k.bitLength() - 1; i >= 0; i--) {
            result = result.add(result);
            if (k.testBit(i)) {
                result = result.add(p);
            }
        }
        return result;
    }

    private static BigInteger challenge(byte[] r, byte[] a, byte[] message) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-512");
        sha.update(r);
        sha.update(a);
        sha.update(message);
        return new BigInteger(1, reverse(sha.digest())).mod(Ed25519.L);
    }

    private static BigInteger privateScalar(EdECPrivateKey key) throws Exception {
        byte[] h = MessageDigest.getInstance("SHA-512").digest(key.getBytes().orElseThrow());
        byte[] lower = Arrays.copyOf(h, 32);
        lower[0] &= (byte) 248;
        lower[31] &= 127;
        lower[31] |= 64;
        return new BigInteger(1, reverse(lower));
    }

    /** The JDK's verifier on its own, given the raw key bytes in an X.509 wrapper (no checks of ours). */
    private static boolean jdkVerifies(byte[] a, byte[] message, byte[] signature) {
        try {
            Signature v = Signature.getInstance("Ed25519");
            v.initVerify(jdkKey(a));
            v.update(message);
            return v.verify(signature);
        } catch (Exception e) {
            return false;
        }
    }

    private static PublicKey jdkKey(byte[] a) throws Exception {
        byte[] prefix = HEX.parseHex("302a300506032b6570032100");
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(concat(prefix, a)));
    }

    private static byte[] littleEndian(BigInteger n) {
        byte[] big = n.toByteArray();
        byte[] out = new byte[32];
        for (int i = 0; i < big.length && i < 32; i++) {
            out[i] = big[big.length - 1 - i];
        }
        return out;
    }

    private static byte[] reverse(byte[] bytes) {
        byte[] out = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = bytes[bytes.length - 1 - i];
        }
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
