package io.vaultbroker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Every key of the README's configuration table is reachable from the environment in the one
 * documented spelling (upper case, '.' and '-' to '_', a list index as _N), with a map standing in
 * for the real environment.
 */
class ConfigurationEnvTest {
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z0-9.*-]+)` \\|");

    private static Config base(String... files) {
        Config.Builder b = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource();
        for (String f : files) {
            b.addSource(ConfigSources.classpath(f));
        }
        return b.build();
    }

    /** The documented spelling, written out here rather than taken from the code under test. */
    private static String spelled(String key) {
        return key.toUpperCase(Locale.ROOT).replace(".", "_").replace("-", "_");
    }

    static List<String> readmeKeys() throws IOException {
        List<String> lines = Files.readAllLines(Path.of("README.md"));
        int start = lines.indexOf("## Configuration");
        List<String> keys = new ArrayList<>();
        for (int i = start + 1; i < lines.size() && !lines.get(i).startsWith("## "); i++) {
            Matcher m = ROW.matcher(lines.get(i));
            if (m.find()) {
                keys.add(m.group(1));
            }
        }
        return keys;
    }

    @Test
    void everyKeyOfTheReadmeTableIsReachableFromTheEnvironment() throws IOException {
        Config base = base("application.yaml");
        List<String> known = Configuration.knownKeys(base);
        List<String> documented = readmeKeys();
        assertThat("rows found in README.md's configuration table", documented.size(), greaterThan(40));
        int checked = 0;
        for (String row : documented) {
            String prefix = row.endsWith(".*") ? row.substring(0, row.length() - 2) : row;
            List<String> leaves = known.stream().filter(k -> k.equals(prefix) || k.startsWith(prefix + ".")).toList();
            assertFalse(leaves.isEmpty(), "README documents " + row + " but no environment variable reaches it");
            for (String leaf : leaves) {
                // A list entry past the end of a YAML list too (index 2 of static-content's two).
                for (String index : leaf.contains("*") ? List.of("0", "1", "2") : List.of("")) {
                    String key = leaf.replace("*", index);
                    String value = "from-env-" + key;
                    Config c = Configuration.withEnvironment(base, Map.of(spelled(key), value));
                    assertEquals(value, c.get(key).asString().orElse(null), spelled(key) + " -> " + key);
                    checked++;
                }
            }
        }
        System.out.println("ConfigurationEnvTest: " + documented.size() + " README keys, " + checked + " env spellings checked");
    }

    @Test
    void listEntriesAndKeysAbsentFromTheYamlReachConfig() {
        Config base = base("application.yaml");
        Map<String, String> env = new HashMap<>();
        env.put("LIMITS_TRUSTED_PROXIES_0", "10.0.0.1");
        env.put("LIMITS_TRUSTED_PROXIES_1", "10.0.0.0/8");
        env.put("SERVER_PROTOCOLS_WEBSOCKET_ORIGINS_0", "https://app.example.com");
        env.put("AUTH_JWT_JWKS_FILE", "/etc/vault-broker/jwks.json");
        env.put("AUTH_JWT_SECRETS_0_KID", "k1");
        env.put("AUTH_JWT_SECRETS_0_SECRET", "s1");
        env.put("FEED_MAX_GAP_WAIT", "PT9S");
        env.put("NOT_A_KEY_OF_OURS", "ignored");
        Config c = Configuration.withEnvironment(base, env);
        assertThat(c.get("limits.trusted-proxies").asList(String.class).get(), is(List.of("10.0.0.1", "10.0.0.0/8")));
        assertThat(c.get("server.protocols.websocket.origins").asList(String.class).get(),
                is(List.of("https://app.example.com")));
        assertThat(c.get("auth.jwt.jwks-file").asString().get(), is("/etc/vault-broker/jwks.json"));
        assertThat(c.get("auth.jwt.secrets").asNodeList().get().getFirst().get("kid").asString().get(), is("k1"));
        assertThat(c.get("feed.max-gap-wait").asString().get(), is("PT9S"));
        // Values the environment does not touch are still there, lists included.
        assertThat(c.get("server.port").asInt().get(), is(8080));
        assertThat(c.get("server.features.static-content.classpath").asNodeList().get().size(), is(2));
        assertFalse(c.get("not.a.key.of.ours").exists());
    }

    @Test
    void aListFromAProfileTakesEntriesFromTheEnvironment() {
        // The dev profile lists four wallet hosts; _0 replaces the first, _4 adds a fifth.
        Config base = base("application-dev.yaml", "application.yaml");
        Config c = Configuration.withEnvironment(base, Map.of("AUTH_WALLET_HOSTS_0", "dapp.local",
                "AUTH_WALLET_HOSTS_4", "dapp.local:8443"));
        assertThat(c.get("auth.wallet.hosts").asList(String.class).get(),
                is(List.of("dapp.local", "localhost:8080", "127.0.0.1", "127.0.0.1:8080", "dapp.local:8443")));
    }

    @Test
    void theStartUpPathSurvivesAnEntryPastTheEndOfAYamlListAndKeepsHelidonsSpelling() {
        // Helidon's own environment source fails here: "Cannot merge OBJECT members [2] with an LIST node".
        Map<String, String> env = Map.of("SERVER_FEATURES_STATIC_CONTENT_CLASSPATH_2_CONTEXT", "/extra",
                "SERVER_FEATURES_STATIC_CONTENT_CLASSPATH_2_LOCATION", "extra",
                "FEED_MAX_dash_GAP_dash_WAIT", "PT7S",
                "SERVER_TLS_PRIVATE_dash_KEY_KEYSTORE_RESOURCE_RESOURCE_dash_PATH", "x.p12");
        Config c = Configuration.withEnvironment(Configuration.files(env), env);
        List<Config> classpath = c.get("server.features.static-content.classpath").asNodeList().get();
        assertThat(classpath.size(), is(3));
        assertThat(classpath.get(2).get("context").asString().get(), is("/extra"));
        assertThat(classpath.get(0).get("context").asString().get(), is("/"));
        assertThat(c.get("feed.max-gap-wait").asString().get(), is("PT7S"));
        assertThat(c.get("server.tls.private-key.keystore.resource.resource-path").asString().get(), is("x.p12"));
        // The test profile's file is layered as Main's start-up would (surefire sets helidon.config.profile=test).
        assertThat(c.get("db.connection.url").asString().get(), is("jdbc:postgresql://127.0.0.1:5432/vault_broker_test"));
    }

    @Test
    void withoutOverridesTheConfigurationIsUntouched() {
        Config base = base("application.yaml");
        assertThat(Configuration.withEnvironment(base, Map.of("HOME", "/root")) == base, is(true));
    }
}
