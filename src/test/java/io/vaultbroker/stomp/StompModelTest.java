package io.vaultbroker.stomp;

import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StompModelTest {

    @Test
    void commandParseIsExact() {
        for (StompCommand c : StompCommand.values()) {
            assertThat(StompCommand.parse(c.name()), is(Optional.of(c)));
        }
        assertThat(StompCommand.parse("send"), is(Optional.empty()));
        assertThat(StompCommand.parse("SEND "), is(Optional.empty()));
        assertThat(StompCommand.parse(""), is(Optional.empty()));
        assertThat(StompCommand.parse(null), is(Optional.empty()));
    }

    @Test
    void headersKeepOrderAndRepeats() {
        StompHeaders h = StompHeaders.builder().add("a", "1").add("b", "2").add("a", "3").build();
        assertThat(h.size(), is(3));
        assertThat(h.get("a"), is("1"));
        assertThat(h.find("b"), is(Optional.of("2")));
        assertThat(h.find("c"), is(Optional.empty()));
        assertThat(h.get("A"), nullValue());
        assertThat(h.entries(), contains(Map.entry("a", "1"), Map.entry("b", "2"), Map.entry("a", "3")));
        assertThrows(UnsupportedOperationException.class, () -> h.entries().add(Map.entry("x", "y")));
    }

    @Test
    void headersValidateInput() {
        assertThrows(IllegalArgumentException.class, () -> StompHeaders.of("a"));
        assertThrows(IllegalArgumentException.class, () -> StompHeaders.of("", "v"));
        assertThrows(NullPointerException.class, () -> StompHeaders.of("a", null));
    }

    @Test
    void builderResultIsUnaffectedByLaterAdds() {
        StompHeaders.Builder b = StompHeaders.builder().add("a", "1");
        StompHeaders first = b.build();
        b.add("b", "2");
        assertThat(first.size(), is(1));
        assertThat(b.build().size(), is(2));
    }

    @Test
    void framesCompareByContent() {
        StompFrame a = StompFrame.of(StompCommand.SEND, StompHeaders.of("x", "1"), "body");
        StompFrame b = StompFrame.of(StompCommand.SEND, StompHeaders.of("x", "1"), "body");
        assertThat(a, is(b));
        assertThat(a.hashCode(), is(b.hashCode()));
        assertThat(a, not(StompFrame.of(StompCommand.SEND, StompHeaders.of("x", "1"), "other")));
        assertThat(StompFrame.of(StompCommand.ACK, StompHeaders.of()).body().length, is(0));
        assertThat(new StompFrame(StompCommand.ACK, StompHeaders.of(), null).body().length, is(0));
    }

    @Test
    void limitsMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new StompLimits(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new StompLimits(1, 1, 0));
    }
}
