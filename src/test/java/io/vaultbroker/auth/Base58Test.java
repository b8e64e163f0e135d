package io.vaultbroker.auth;

import java.util.HexFormat;
import java.util.Random;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class Base58Test {

    // Vectors from Bitcoin Core's base58_encode_decode.json.
    // junit-jupiter-params is not on the test classpath, hence plain loops over tables.
    private static final String[][] VECTORS = {
            {"61", "2g"},
            {"626262", "a3gV"},
            {"636363", "aPEr"},
            {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
            {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
            {"516b6fcd0f", "ABnLTmg"},
            {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
            {"572e4794", "3EFU7m"},
            {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
            {"10c8511e", "Rt5zm"},
            {"00000000000000000000", "1111111111"},
            {"00", "1"},
            {"000001", "112"},
    };

    @Test
    void vectors() {
        for (String[] row : VECTORS) {
            String hex = row[0];
            String base58 = row[1];
            byte[] bytes = HexFormat.of().parseHex(hex);
            assertThat(hex, Base58.encode(bytes), is(base58));
            assertThat(base58, HexFormat.of().formatHex(Base58.decode(base58)), is(hex));
        }
    }

    @Test
    void emptyBytesEncodeToEmptyString() {
        assertThat(Base58.encode(new byte[0]), is(""));
    }

    @Test
    void refusesCharactersOutsideTheAlphabet() {
        for (String s : new String[] {"0", "O", "I", "l", "abc+", "2g ", "é", "\u0000", "1\u0661"}) {
            assertThrows(IllegalArgumentException.class, () -> Base58.decode(s), s);
        }
    }

    @Test
    void refusesEmptyAndNull() {
        assertThrows(IllegalArgumentException.class, () -> Base58.decode(""));
        assertThrows(IllegalArgumentException.class, () -> Base58.decode(null));
    }

    @Test
    void roundTrips() {
        long seed = Long.getLong("base58.seed", new Random().nextLong());
        Random rnd = new Random(seed);
        for (int i = 0; i < 1000; i++) {
            // Leading zero bytes are what base58 treats specially; make them common.
            byte[] bytes = new byte[1 + rnd.nextInt(80)];
            rnd.nextBytes(bytes);
            for (int z = rnd.nextInt(4) == 0 ? rnd.nextInt(bytes.length + 1) : 0; z > 0; z--) {
                bytes[z - 1] = 0;
            }
            assertArrayEquals(bytes, Base58.decode(Base58.encode(bytes)), "seed " + seed + " (-Dbase58.seed replays it)");
        }
    }
}
