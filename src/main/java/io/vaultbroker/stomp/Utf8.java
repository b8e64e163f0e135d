package io.vaultbroker.stomp;

/**
 * Strict UTF-8 validation over a byte range, without allocating (a CharsetDecoder would need buffers per call).
 * <p>Stateless, thread-safe.
 */
final class Utf8 {

    private Utf8() {
    }

    /** True if {@code b[off, off+len)} is well-formed UTF-8: no overlongs, surrogates or code points above U+10FFFF. */
    static boolean isValid(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end) {
            int c = b[i];
            if (c >= 0) {
                i++;
                continue;
            }
            c &= 0xFF;
            int n;
            int min;
            int max = 0xBF;
            if (c >= 0xC2 && c <= 0xDF) {
                n = 1;
                min = 0x80;
            } else if (c >= 0xE0 && c <= 0xEF) {
                n = 2;
                // E0 would be overlong below A0; ED above 9F would encode a surrogate
                min = c == 0xE0 ? 0xA0 : 0x80;
                max = c == 0xED ? 0x9F : 0xBF;
            } else if (c >= 0xF0 && c <= 0xF4) {
                n = 3;
                // F0 would be overlong below 90; F4 above 8F would exceed U+10FFFF
                min = c == 0xF0 ? 0x90 : 0x80;
                max = c == 0xF4 ? 0x8F : 0xBF;
            } else {
                return false;
            }
            if (end - i <= n) {
                return false;
            }
            int c1 = b[i + 1] & 0xFF;
            if (c1 < min || c1 > max) {
                return false;
            }
            for (int k = 2; k <= n; k++) {
                if ((b[i + k] & 0xC0) != 0x80) {
                    return false;
                }
            }
            i += n + 1;
        }
        return true;
    }
}
