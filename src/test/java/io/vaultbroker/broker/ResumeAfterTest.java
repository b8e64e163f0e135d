package io.vaultbroker.broker;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one parser of a client's resume position, for every endpoint and the CLI. */
class ResumeAfterTest {
    @Test
    void absentIsNoResume() {
        assertThat(ResumeAfter.parse(null).status(), is(ResumeAfter.Status.ABSENT));
        assertThat(ResumeAfter.parse(null).orNull(), is(nullValue()));
    }

    @Test
    void decimalRowIdsUpToLongMaxValue() {
        assertThat(ResumeAfter.parse("0").orNull(), is(0L));
        assertThat(ResumeAfter.parse("42").orNull(), is(42L));
        assertThat(ResumeAfter.parse("007").orNull(), is(7L));
        assertThat(ResumeAfter.parse("9223372036854775807").orNull(), is(Long.MAX_VALUE));
        assertThat(ResumeAfter.parse("00000000000000000000009223372036854775807").orNull(), is(Long.MAX_VALUE));
        assertThat(ResumeAfter.parse("9223372036854775806").orNull(), is(Long.MAX_VALUE - 1));
    }

    @Test
    void oneOverLongMaxValueAndBeyondAreInvalid() {
        invalid("9223372036854775808");
        invalid("9223372036854775809");
        invalid("9223372036854775810");
        invalid("9999999999999999999");
        invalid("18446744073709551616");
        invalid("92233720368547758070");
    }

    @Test
    void emptySignsSpacesAndOtherCharactersAreInvalid() {
        invalid("");
        invalid("-1");
        invalid("+1");
        invalid("-0");
        invalid(" 1");
        invalid("1 ");
        invalid("1_000");
        invalid("0x10");
        invalid("1e3");
        invalid("12a");
    }

    @Test
    void digitsOfOtherScriptsAreInvalid() {
        // Long.parseLong and Character::isDigit both accept these.
        invalid("\u0661\u0662");          // ARABIC-INDIC ONE, TWO
        invalid("1\u0966");               // DEVANAGARI ZERO after an ASCII digit
        invalid("\uFF11");                // FULLWIDTH DIGIT ONE
        invalid("\uD835\uDFCF");          // MATHEMATICAL BOLD DIGIT ONE (a surrogate pair)
        assertThat(Long.parseLong("\u0661\u0662"), is(12L)); // why no JDK parser is used
    }

    @Test
    void anInvalidPositionHasNoValue() {
        assertThrows(IllegalStateException.class, () -> ResumeAfter.parse("x").orNull());
    }

    private static void invalid(String text) {
        ResumeAfter r = ResumeAfter.parse(text);
        assertTrue(r.invalid(), "'" + text + "' must be invalid, was " + r);
        assertThat(r.status(), is(ResumeAfter.Status.INVALID));
    }
}
