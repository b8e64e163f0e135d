package io.vaultbroker.auth;

import java.math.BigInteger;

/**
 * Base58 with the Bitcoin alphabet, as Solana and wallets write pubkeys and signatures:
 * each leading zero byte is one leading '1'. Stateless.
 *
 * <p>Quadratic in the input length; callers bound lengths before decoding untrusted input.
 */
public final class Base58 {

    private static final String ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private static final BigInteger FIFTY_EIGHT = BigInteger.valueOf(58);
    private static final int[] DIGITS = digitTable();

    private Base58() {
    }

    /** @throws IllegalArgumentException on null, empty input or a character outside the alphabet */
    public static byte[] decode(String s) {
        if (s == null || s.isEmpty()) {
            throw new IllegalArgumentException("empty base58 string");
        }
        int leadingZeros = 0;
        while (leadingZeros < s.length() && s.charAt(leadingZeros) == '1') {
            leadingZeros++;
        }
        BigInteger value = BigInteger.ZERO;
        for (int i = leadingZeros; i < s.length(); i++) {
            char c = s.charAt(i);
            int digit = c < DIGITS.length ? DIGITS[c] : -1;
            if (digit < 0) {
                // The character itself is not echoed: the input may be a secret.
                throw new IllegalArgumentException("invalid base58 character at index " + i);
            }
            value = value.multiply(FIFTY_EIGHT).add(BigInteger.valueOf(digit));
        }
        byte[] magnitude = unsignedBytes(value);
        byte[] out = new byte[leadingZeros + magnitude.length];
        System.arraycopy(magnitude, 0, out, leadingZeros, magnitude.length);
        return out;
    }

    public static String encode(byte[] b) {
        int leadingZeros = 0;
        while (leadingZeros < b.length && b[leadingZeros] == 0) {
            leadingZeros++;
        }
        StringBuilder reversed = new StringBuilder();
        BigInteger value = new BigInteger(1, b);
        while (value.signum() > 0) {
            BigInteger[] quotientAndRemainder = value.divideAndRemainder(FIFTY_EIGHT);
            reversed.append(ALPHABET.charAt(quotientAndRemainder[1].intValue()));
            value = quotientAndRemainder[0];
        }
        for (int i = 0; i < leadingZeros; i++) {
            reversed.append('1');
        }
        return reversed.reverse().toString();
    }

    /** Big-endian bytes without BigInteger's sign byte; empty for zero. */
    private static byte[] unsignedBytes(BigInteger value) {
        if (value.signum() == 0) {
            return new byte[0];
        }
        byte[] withSign = value.toByteArray();
        if (withSign[0] != 0) {
            return withSign;
        }
        byte[] out = new byte[withSign.length - 1];
        System.arraycopy(withSign, 1, out, 0, out.length);
        return out;
    }

    private static int[] digitTable() {
        int[] table = new int[128];
        java.util.Arrays.fill(table, -1);
        for (int i = 0; i < ALPHABET.length(); i++) {
            table[ALPHABET.charAt(i)] = i;
        }
        return table;
    }
}
