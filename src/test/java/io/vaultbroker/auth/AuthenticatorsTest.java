package io.vaultbroker.auth;

import io.helidon.config.Config;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;

import static io.vaultbroker.auth.TestSupport.CLOCK;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Start-up configuration, dev mode, and the small public types. */
class AuthenticatorsTest {

    private static IllegalStateException refusal(String yaml) {
        return assertThrows(IllegalStateException.class,
                () -> Authenticators.create(TestSupport.authConfig(yaml), new TestSupport.MemoryLedger(), CLOCK));
    }

    @Test
    void refusesToStartWithoutKeysInJwtMode() {
        for (String yaml : new String[] {"auth:\n  mode: jwt\n", "auth:\n  jwt:\n    issuer: x\n", "other: 1\n",
                "auth:\n  jwt:\n    secret: \"\"\n"}) {
            IllegalStateException e = refusal(yaml);
            assertThat(e.getMessage(), containsString("AUTH_JWT_SECRET"));
            assertThat(e.getMessage(), containsString("auth.jwt.secret"));
            assertThat(e.getMessage(), containsString("auth.mode=none"));
        }
        IllegalStateException empty = assertThrows(IllegalStateException.class,
                () -> Authenticators.create(Config.empty(), null, CLOCK));
        assertThat(empty.getMessage(), containsString("AUTH_JWT_SECRET"));
    }

    @Test
    void refusesAShortSecretWithoutEchoingIt() {
        IllegalStateException e = refusal("auth:\n  jwt:\n    secret: tooshort-but-secret\n");
        assertThat(e.getMessage(), containsString("at least 32 bytes"));
        assertThat(e.getMessage(), not(containsString("tooshort-but-secret")));
    }

    @Test
    void refusesUnusableKeyConfiguration() {
        assertThat(refusal("auth:\n  mode: jwtt\n").getMessage(), containsString("auth.mode"));
        String secret = "0123456789abcdef0123456789abcdef";
        assertThat(refusal("""
                auth:
                  jwt:
                    secrets:
                      - { kid: a, secret: %s }
                      - { kid: a, secret: %s }
                """.formatted(secret, secret + "x")).getMessage(), containsString("'a' is configured twice"));
        assertThat(refusal("auth:\n  jwt:\n    secrets:\n      - { secret: %s }\n".formatted(secret)).getMessage(),
                containsString("auth.jwt.secrets[0].kid is required"));
        assertThat(refusal("auth:\n  jwt:\n    public-keys:\n      - { kid: k, pem: nonsense }\n").getMessage(),
                containsString("BEGIN PUBLIC KEY"));
        assertThat(refusal("auth:\n  jwt:\n    jwks-file: /nonexistent/jwks.json\n").getMessage(),
                containsString("auth.jwt.jwks-file"));
        assertThat(refusal("auth:\n  jwt:\n    secret: %s\n    clock-skew: soon\n".formatted(secret)).getMessage(),
                containsString("auth.jwt.clock-skew"));
    }

    @Test
    void refusesWeakOrUnsupportedPublicKeys(@TempDir Path dir) throws Exception {
        Path weak = dir.resolve("rsa1024.pem");
        Files.writeString(weak, TestSupport.pem(TestSupport.keyPair("RSA", 1024).getPublic()));
        assertThat(refusal("auth:\n  jwt:\n    public-keys:\n      - { kid: k, pem-file: %s }\n".formatted(weak))
                .getMessage(), containsString("at least 2048 bits"));
        Path p384 = dir.resolve("p384.pem");
        Files.writeString(p384, TestSupport.pem(TestSupport.keyPair("EC", 384).getPublic()));
        assertThat(refusal("auth:\n  jwt:\n    public-keys:\n      - { kid: k, pem-file: %s }\n".formatted(p384))
                .getMessage(), containsString("P-256"));
    }

    @Test
    void devModeTakesTheLoginAsSubject() throws Exception {
        Authenticator dev = Authenticators.create(TestSupport.authConfig("auth:\n  mode: none\n"), null, CLOCK);
        Principal alice = dev.authenticate(new Credentials("alice", null, null, null, null, null));
        assertThat(alice.subject(), is("alice"));
        assertThat(alice.isAdmin(), is(false));
        assertThat(alice.method(), is("dev"));
        assertThat(alice.expiresAt(), is(nullValue()));
        assertThat(dev.authenticate(new Credentials("admin", null, null, null, null, null)).isAdmin(), is(true));
        assertThat(dev.authenticate(new Credentials("Admin", null, null, null, null, null)).isAdmin(), is(false));
        AuthException e = assertThrows(AuthException.class,
                () -> dev.authenticate(new Credentials(null, "x", null, null, null, null)));
        assertThat(e.category(), is("missing"));
    }

    @Test
    void mintedTokensAreAcceptedWithTheSameSecret() throws Exception {
        byte[] secret = TokenMinter.randomSecret();
        assertThat(secret.length >= 32, is(true));
        String secretText = new String(secret, java.nio.charset.StandardCharsets.US_ASCII);
        Authenticator auth = Authenticators.create(TestSupport.authConfig("auth:\n  jwt:\n    secret: \"%s\"\n"
                .formatted(secretText)), new TestSupport.MemoryLedger(), Clock.systemUTC());
        String subject = TestSupport.pubkey(TestSupport.ed25519());
        Principal p = auth.authenticate(TestSupport.passcode(
                new TokenMinter(secret).mint(subject, Set.of("admin"), Duration.ofMinutes(5))));
        assertThat(p.subject(), is(subject));
        assertThat(p.isAdmin(), is(true));
        assertThrows(IllegalArgumentException.class, () -> new TokenMinter(new byte[31]));
    }

    @Test
    void credentialsNeverPrintSecrets() {
        String text = new Credentials("me", "eyJ.secret.token", "Bearer eyJ.other", "1", "h", "u").toString();
        assertThat(text, not(containsString("eyJ")));
        assertThat(text, containsString("login=me"));
    }

    @Test
    void principalCopiesRoles() {
        java.util.Set<String> roles = new java.util.HashSet<>(Set.of("admin"));
        Principal p = new Principal("ops", roles, null, "jwt");
        roles.clear();
        assertThat(p.isAdmin(), is(true));
        assertThat(new Principal("x", null, null, "dev").roles(), is(Set.of()));
    }
}
