package io.vaultbroker.web;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The TCP connection budget under the open-files limit, on both sides of it. */
class OpenFilesBudgetTest {

    @Test
    void byDefaultTheTotalIsWhatTheLimitAllows() {
        OpenFilesBudget b = OpenFilesBudget.of(1024, 150, 74);
        assertThat(b.headroom(), is(224L));
        assertThat(b.allowed(), is(800));
        assertThat(b.total(0), is(800));
    }

    @Test
    void aConfiguredTotalUpToTheLimitIsKeptAndOneAboveRefusesToStart() {
        OpenFilesBudget b = OpenFilesBudget.of(1024, 150, 74);
        assertThat(b.total(100), is(100));
        assertThat(b.total(800), is(800));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.total(801));
        assertThat(e.getMessage(), containsString("ulimit -n 1025"));
        assertThat(e.getMessage(), containsString("LIMITS_TCP_CONNECTIONS"));
    }

    @Test
    void aLimitThatLeavesNoRoomRefusesToStart() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> OpenFilesBudget.of(256, 200, 74).total(0));
        assertThat(e.getMessage(), containsString("ulimit -n"));
        assertThat(OpenFilesBudget.of(256, 150, 74).total(0), is(32));
    }

    @Test
    void thisProcessHasALimitAndRoomUnderIt() {
        OpenFilesBudget b = OpenFilesBudget.measure(74);
        assertThat(b.limit(), greaterThan(0L));
        assertThat((long) b.allowed(), is(b.limit() - b.headroom()));
    }
}
