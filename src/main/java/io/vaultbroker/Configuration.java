package io.vaultbroker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

/**
 * Loads {@code application.yaml} (and {@code application-<profile>.yaml} when a profile is set),
 * then lets an environment variable override any documented key, with one spelling: upper case,
 * {@code '.'} and {@code '-'} become {@code '_'}, and a list entry's index is {@code _N}:
 * {@code feed.max-gap-wait} is {@code FEED_MAX_GAP_WAIT}, the first of
 * {@code limits.trusted-proxies} is {@code LIMITS_TRUSTED_PROXIES_0}, and the kid of the first
 * {@code auth.jwt.secrets} entry is {@code AUTH_JWT_SECRETS_0_KID}. Helidon's own mapping
 * ({@code FEED_MAX_dash_GAP_dash_WAIT}) also works.
 *
 * <p>That spelling cannot be turned back into a key by itself ({@code _} may have been a dot or
 * a dash), so the keys it can name are those application.yaml holds plus {@link #DOCUMENTED},
 * the documented keys that have no value there (secrets, lists, optional settings). A test walks
 * the README's configuration table against them. Stateless.
 */
final class Configuration {
    /**
     * Documented keys application.yaml has no value for; {@code *} is a list index. Keys that
     * application.yaml holds are found there and need no entry.
     */
    static final List<String> DOCUMENTED = List.of(
            "server.protocols.websocket.origins.*",
            "server.tls.private-key.keystore.resource.path",
            "server.tls.private-key.keystore.passphrase",
            "server.tls.private-key.keystore.key.alias",
            "server.tls.private-key.pem.key.resource.path",
            "server.tls.private-key.pem.cert-chain.resource.path",
            "auth.jwt.secret",
            "auth.jwt.secrets.*.kid",
            "auth.jwt.secrets.*.secret",
            "auth.jwt.public-keys.*.kid",
            "auth.jwt.public-keys.*.pem",
            "auth.jwt.public-keys.*.pem-file",
            "auth.jwt.jwks-file",
            "auth.jwt.issuer",
            "auth.jwt.audience",
            "auth.wallet.hosts.*",
            "limits.trusted-proxies.*",
            "dashboard.broker-urls.*");

    private static final Pattern INDEX = Pattern.compile("(?<=^|\\.)[0-9]+(?=\\.|$)");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Z][A-Z0-9_]*");

    private Configuration() {
    }

    static Config load() {
        return withEnvironment(Config.create(), System.getenv());
    }

    /**
     * The configuration with the environment's overrides applied. Merging a map of overrides
     * over YAML lists fails in Helidon when an index is past the list's end, so the result is
     * one flat source: every value of {@code base}, then the overrides over them.
     */
    static Config withEnvironment(Config base, Map<String, String> env) {
        List<KeyPattern> patterns = patterns(base);
        Map<String, String> overrides = new HashMap<>();
        env.forEach((name, value) -> {
            if (!ENV_NAME.matcher(name).matches()) {
                return;
            }
            for (KeyPattern p : patterns) {
                String key = p.keyFor(name);
                if (key != null) {
                    overrides.put(key, value);
                    return;
                }
            }
        });
        if (overrides.isEmpty()) {
            return base;
        }
        Map<String, String> flat = new LinkedHashMap<>();
        base.traverse().filter(Config::isLeaf).forEach(node ->
                node.asString().ifPresent(v -> flat.put(node.key().toString(), v)));
        flat.putAll(overrides);
        return Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .addSource(ConfigSources.create(flat))
                .build();
    }

    /** The documented spelling of a key's environment variable (indexes as they are). */
    static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** Every key an environment variable may name: application.yaml's, with indexes generalised, and {@link #DOCUMENTED}. */
    static List<String> knownKeys(Config base) {
        TreeSet<String> keys = new TreeSet<>(DOCUMENTED);
        base.traverse().filter(Config::isLeaf).forEach(node ->
                keys.add(INDEX.matcher(node.key().toString()).replaceAll("*")));
        return new ArrayList<>(keys);
    }

    private static List<KeyPattern> patterns(Config base) {
        List<KeyPattern> out = new ArrayList<>();
        for (String key : knownKeys(base)) {
            if (key.chars().allMatch(c -> c == '.' || c == '-' || c == '*' || c == '_'
                    || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
                out.add(new KeyPattern(key));
            }
        }
        return out;
    }

    /** A known key and the environment names that reach it. Immutable. */
    private record KeyPattern(String key, Pattern env) {
        KeyPattern(String key) {
            this(key, Pattern.compile(String.join("([0-9]{1,4})",
                    java.util.Arrays.stream(envName(key).split("\\*", -1)).map(Pattern::quote).toList())));
        }

        /** The concrete key {@code name} spells, or null. */
        String keyFor(String name) {
            Matcher m = env.matcher(name);
            if (!m.matches()) {
                return null;
            }
            StringBuilder out = new StringBuilder();
            int group = 1;
            for (char c : key.toCharArray()) {
                if (c == '*') {
                    out.append(Integer.parseInt(m.group(group++)));
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }
    }
}
