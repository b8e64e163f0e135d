package io.vaultbroker.auth;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;

import static io.vaultbroker.auth.TestSupport.CLOCK;
import static io.vaultbroker.auth.TestSupport.NOW;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WalletAuthenticationTest {

    private static final String SECRET = "0123456789abcdef0123456789abcdef";
    private static final String HOST = "app.vault.example";

    private final KeyPair wallet = TestSupport.ed25519();
    private final String pubkey = TestSupport.pubkey(wallet);
    private TestSupport.MemoryLedger ledger;
    private Authenticator withHosts;
    private Authenticator withoutHosts;

    @BeforeEach
    void configure() {
        ledger = new TestSupport.MemoryLedger();
        withHosts = Authenticators.create(TestSupport.authConfig("""
                auth:
                  jwt:
                    secret: %s
                  wallet:
                    hosts: [ "%s", "other.vault.example" ]
                """.formatted(SECRET, HOST)), ledger, CLOCK);
        withoutHosts = Authenticators.create(TestSupport.authConfig("""
                auth:
                  jwt:
                    secret: %s
                """.formatted(SECRET)), ledger, CLOCK);
    }

    private String signature(KeyPair signer, String host, String signedAt) {
        return Base58.encode(TestSupport.sign("Ed25519", signer.getPrivate(), WalletAuthenticator.message(host, signedAt)));
    }

    private Credentials signIn(String host, long signedAt) {
        String at = Long.toString(signedAt);
        return new Credentials(pubkey, signature(wallet, host, at), null, at, host, "ignored:8080");
    }

    private void refuse(Authenticator authenticator, Credentials c, String category) {
        AuthException e = assertThrows(AuthException.class, () -> authenticator.authenticate(c));
        assertThat(e.category(), is(category));
    }

    @Test
    void acceptsAFreshSignature() throws Exception {
        Credentials c = signIn(HOST, NOW.getEpochSecond() - 10);
        Principal p = withHosts.authenticate(c);
        assertThat(p.subject(), is(pubkey));
        assertThat(p.roles(), is(Set.of()));
        assertThat(p.expiresAt(), is(nullValue()));
        assertThat(p.method(), is("wallet"));
        // Remembered until it is stale (50 s from now), plus one window of margin for the database's clock.
        assertThat(ledger.seen.get(c.passcode()), is(Duration.ofSeconds(50 + 60)));
    }

    @Test
    void refusesAReplay() throws Exception {
        Credentials c = signIn(HOST, NOW.getEpochSecond());
        withHosts.authenticate(c);
        refuse(withHosts, c, "replayed");
    }

    @Test
    void refusesAnotherHost() {
        refuse(withHosts, signIn("evil.example", NOW.getEpochSecond()), "wrong-host");
        refuse(withHosts, signIn("APP.VAULT.EXAMPLE", NOW.getEpochSecond()), "wrong-host");
        String at = Long.toString(NOW.getEpochSecond());
        refuse(withHosts, new Credentials(pubkey, signature(wallet, HOST, at), null, at, null, HOST), "wrong-host");
    }

    @Test
    void withoutConfiguredHostsWalletSignInIsOff() {
        // The client chooses both Host headers: matching them to each other proves nothing.
        String at = Long.toString(NOW.getEpochSecond());
        String host = "localhost:8080";
        refuse(withoutHosts, new Credentials(pubkey, signature(wallet, host, at), null, at, host, host),
                "wallet-disabled");
    }

    @Test
    void theUpgradeHostNeverStandsInForTheList() throws Exception {
        // A phishing page's signature, sent with its own host in both headers, is refused; the listed one works.
        Authenticator app = Authenticators.create(TestSupport.authConfig("""
                auth:
                  jwt:
                    secret: %s
                  wallet:
                    hosts: [ "app.example" ]
                """.formatted(SECRET)), ledger, CLOCK);
        String at = Long.toString(NOW.getEpochSecond());
        refuse(app, new Credentials(pubkey, signature(wallet, "phish.example", at), null, at, "phish.example",
                "phish.example"), "wrong-host");
        Principal p = app.authenticate(new Credentials(pubkey, signature(wallet, "app.example", at), null, at,
                "app.example", "phish.example"));
        assertThat(p.subject(), is(pubkey));
    }

    @Test
    void aHostThatIsNoHostRefusesToStart() {
        for (String bad : new String[] {"", " app.example", "app.example\r\nX: y"}) {
            assertThrows(IllegalStateException.class, () -> Authenticators.create(TestSupport.authConfig("""
                    auth:
                      jwt:
                        secret: %s
                      wallet:
                        hosts: [ "%s" ]
                    """.formatted(SECRET, bad.replace("\r", "\\r").replace("\n", "\\n"))), ledger, CLOCK), bad);
        }
    }

    @Test
    void acceptsOnlyWithinTheWindow() throws Exception {
        withHosts.authenticate(signIn(HOST, NOW.getEpochSecond() - 60));
        withHosts.authenticate(signIn(HOST, NOW.getEpochSecond() + 60));
        refuse(withHosts, signIn(HOST, NOW.getEpochSecond() - 61), "stale");
        refuse(withHosts, signIn(HOST, NOW.getEpochSecond() + 61), "future");
    }

    @Test
    void refusesSignedAtThatIsNotDecimalSeconds() {
        for (String at : new String[] {"", "-5", "+1765229400", "1765229400.0", "1e9", "0x10", " 1765229400",
                "1765229400000000"}) {
            Credentials c = new Credentials(pubkey, signature(wallet, HOST, at), null, at, HOST, null);
            refuse(withHosts, c, "malformed");
        }
    }

    @Test
    void refusesMalformedBase58() {
        String at = Long.toString(NOW.getEpochSecond());
        refuse(withHosts, new Credentials(pubkey, "0OIl" + signature(wallet, HOST, at).substring(4), null, at, HOST, null),
                "malformed");
        refuse(withHosts, new Credentials(pubkey.replace(pubkey.charAt(0), 'l'), signature(wallet, HOST, at), null, at,
                HOST, null), "malformed");
        refuse(withHosts, new Credentials(pubkey, "", null, at, HOST, null), "malformed");
        refuse(withHosts, new Credentials(pubkey, Base58.encode(new byte[63]), null, at, HOST, null), "malformed");
        refuse(withHosts, new Credentials(null, signature(wallet, HOST, at), null, at, HOST, null), "missing");
        refuse(withHosts, new Credentials(pubkey, null, null, at, HOST, null), "missing");
    }

    @Test
    void refusesASignatureByAnotherKey() {
        String at = Long.toString(NOW.getEpochSecond());
        refuse(withHosts, new Credentials(pubkey, signature(TestSupport.ed25519(), HOST, at), null, at, HOST, null),
                "bad-signature");
    }

    @Test
    void refusesASignatureOverOtherWords() {
        String at = Long.toString(NOW.getEpochSecond());
        String otherAt = Long.toString(NOW.getEpochSecond() - 1);
        refuse(withHosts, new Credentials(pubkey, signature(wallet, HOST, otherAt), null, at, HOST, null), "bad-signature");
        refuse(withHosts, new Credentials(pubkey, signature(wallet, "other.vault.example", at), null, at, HOST, null),
                "bad-signature");
    }

    @Test
    void refusesAPubkeyThatIsNot32Bytes() {
        String at = Long.toString(NOW.getEpochSecond());
        byte[] raw = TestSupport.rawEd25519(wallet.getPublic());
        for (byte[] key : new byte[][] {Arrays.copyOf(raw, 31), Arrays.copyOf(raw, 33)}) {
            refuse(withHosts, new Credentials(Base58.encode(key), signature(wallet, HOST, at), null, at, HOST, null),
                    "malformed");
        }
    }

    @Test
    void refusesTheMalleatedTwinOfAValidSignature() throws Exception {
        // S + L verifies under a lax verifier; accepting it would let one signature be used twice.
        String at = Long.toString(NOW.getEpochSecond());
        byte[] signature = Base58.decode(signature(wallet, HOST, at));
        BigInteger order = BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));
        byte[] s = Arrays.copyOfRange(signature, 32, 64);
        byte[] sPlusL = littleEndian(new BigInteger(1, reverse(s)).add(order));
        byte[] twin = Arrays.copyOf(signature, 64);
        System.arraycopy(sPlusL, 0, twin, 32, 32);
        withHosts.authenticate(new Credentials(pubkey, Base58.encode(signature), null, at, HOST, null));
        refuse(withHosts, new Credentials(pubkey, Base58.encode(twin), null, at, HOST, null), "bad-signature");
    }

    @Test
    void aFailingLedgerRefuses() {
        Authenticator broken = Authenticators.create(TestSupport.authConfig("""
                auth:
                  jwt:
                    secret: %s
                  wallet:
                    hosts: [ "%s" ]
                """.formatted(SECRET, HOST)), (signature, forgetAfter) -> {
            throw new IllegalStateException("database down");
        }, CLOCK);
        refuse(broken, signIn(HOST, NOW.getEpochSecond()), "ledger-unavailable");
    }

    @Test
    void walletSignInCanBeDisabled() {
        Authenticator jwtOnly = Authenticators.create(TestSupport.authConfig("""
                auth:
                  jwt:
                    secret: %s
                  wallet:
                    enabled: false
                """.formatted(SECRET)), null, CLOCK);
        refuse(jwtOnly, signIn(HOST, NOW.getEpochSecond()), "wallet-disabled");
    }

    private static byte[] reverse(byte[] bytes) {
        byte[] out = new byte[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = bytes[bytes.length - 1 - i];
        }
        return out;
    }

    private static byte[] littleEndian(BigInteger value) {
        byte[] bigEndian = value.toByteArray();
        byte[] out = new byte[32];
        for (int i = 0; i < 32 && i < bigEndian.length; i++) {
            out[i] = bigEndian[bigEndian.length - 1 - i];
        }
        return out;
    }
}
