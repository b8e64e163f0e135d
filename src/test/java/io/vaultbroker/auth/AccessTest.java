package io.vaultbroker.auth;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Arrays;
import java.util.Set;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

class AccessTest {

    private static final String ALICE = Base58.encode(filled(32, (byte) 7));
    private static final String BOB = Base58.encode(filled(32, (byte) 9));

    private static final Principal alice = new Principal(ALICE, Set.of(), Instant.MAX, "jwt");
    private static final Principal bob = new Principal(BOB, Set.of("trader"), null, "wallet");
    private static final Principal admin = new Principal("ops-console", Set.of("admin"), Instant.MAX, "jwt");

    @Test
    void userDestinationsBelongToTheirOwnerAndAdmins() {
        assertThat(Access.mayRead(alice, ALICE, false), is(true));
        assertThat(Access.mayRead(bob, ALICE, false), is(false));
        assertThat(Access.mayRead(admin, ALICE, false), is(true));
    }

    @Test
    void adminOnlyDestinationIsForAdminsOnly() {
        assertThat(Access.mayRead(admin, null, false), is(true));
        assertThat(Access.mayRead(alice, null, false), is(false));
        assertThat(Access.mayRead(bob, null, false), is(false));
    }

    @Test
    void healthIsForAnyAuthenticatedSession() {
        assertThat(Access.mayRead(alice, null, true), is(true));
        assertThat(Access.mayRead(bob, null, true), is(true));
        assertThat(Access.mayRead(admin, null, true), is(true));
    }

    @Test
    void noPrincipalMayReadAnything() {
        assertThat(Access.mayRead(null, ALICE, false), is(false));
        assertThat(Access.mayRead(null, null, false), is(false));
        assertThat(Access.mayRead(null, null, true), is(false));
    }

    @Test
    void anOwnerThatIsNotAPubkeyIsRefusedEvenToAdmins() {
        Principal odd = new Principal("not-a-key", Set.of(), null, "dev");
        assertThat(Access.mayRead(odd, "not-a-key", false), is(false));
        assertThat(Access.mayRead(admin, "not-a-key", false), is(false));
    }

    @Test
    void roleNamesAreExact() {
        Principal shouting = new Principal(ALICE, Set.of("ADMIN", "administrator"), null, "jwt");
        assertThat(shouting.isAdmin(), is(false));
        assertThat(Access.mayRead(shouting, null, false), is(false));
    }

    @Test
    void isPubkeyNeedsExactly32BytesOfBase58() {
        assertThat(Access.isPubkey(ALICE), is(true));
        assertThat(Access.isPubkey(Base58.encode(new byte[32])), is(true)); // 32 '1's
        assertThat(Access.isPubkey(Base58.encode(filled(31, (byte) 7))), is(false));
        assertThat(Access.isPubkey(Base58.encode(filled(33, (byte) 7))), is(false));
        assertThat(Access.isPubkey(ALICE.substring(1)), is(false));
        assertThat(Access.isPubkey(ALICE + "1"), is(false));
        assertThat(Access.isPubkey(ALICE.replace(ALICE.charAt(3), '0')), is(false));
        assertThat(Access.isPubkey(""), is(false));
        assertThat(Access.isPubkey(null), is(false));
        assertThat(Access.isPubkey("1".repeat(45)), is(false));
        assertThat(Access.isPubkey(ALICE.toLowerCase()), is(false));
    }

    private static byte[] filled(int length, byte value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, value);
        return bytes;
    }
}
