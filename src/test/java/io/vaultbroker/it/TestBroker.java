package io.vaultbroker.it;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import io.vaultbroker.Application;
import io.vaultbroker.auth.Base58;
import io.vaultbroker.auth.TokenMinter;

/**
 * Starts the whole broker against the test database, configured as in production but for the
 * test profile and the given overrides.
 */
final class TestBroker {
    static final String SECRET = "test-secret-that-is-long-enough-for-hs256!";
    static final TokenMinter MINTER = new TokenMinter(SECRET.getBytes(StandardCharsets.UTF_8));
    private static final SecureRandom RANDOM = new SecureRandom();

    private TestBroker() {
    }

    static Application start(String... overrides) throws Exception {
        TestDb.ensure();
        Map<String, String> map = new HashMap<>();
        for (int i = 0; i + 1 < overrides.length; i += 2) {
            map.put(overrides[i], overrides[i + 1]);
        }
        Config config = Config.just(ConfigSources.create(map),
                ConfigSources.classpath("application-test.yaml"),
                ConfigSources.classpath("application.yaml"));
        return Application.start(config);
    }

    /** A fresh random pubkey (base58 of 32 bytes). */
    static String pubkey() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        b[0] |= 1; // no leading zero byte, so the base58 form has no leading '1'
        return Base58.encode(b);
    }

    static String userToken(String pubkey) {
        return MINTER.mint(pubkey, Set.of(), Duration.ofHours(1));
    }

    static String adminToken() {
        return MINTER.mint("ops-admin", Set.of("admin"), Duration.ofHours(1));
    }
}
