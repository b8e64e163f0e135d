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
 * ({@code FEED_MAX_dash_GAP_dash_WAIT}) also works, for any key.
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
    private static final Pattern RAW_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    /** Helidon's own spelling, {@code FEED_MAX_dash_GAP_dash_WAIT}; any key, known or not. */
    private static final Pattern HELIDON_NAME = Pattern.compile("[A-Z][A-Z0-9]*(?:(?:_dash_|_)[A-Z0-9]+)*");

    private Configuration() {
    }

    static Config load() {
        Map<String, String> env = System.getenv();
        return withEnvironment(files(env), env);
    }

    /**
     * System properties over {@code application-<profile>.yaml} (when {@code helidon.config.profile},
     * {@code config.profile} or {@code HELIDON_CONFIG_PROFILE} names one) over {@code application.yaml},
     * without Helidon's environment source: it fails start-up outright ("Cannot merge OBJECT members
     * [4] with an LIST node") when a variable names a list entry past the end of a YAML list, so
     * {@link #withEnvironment} applies the environment instead. The variables' own names are a source
     * too, so {@code ${NAME}} references in YAML still resolve.
     */
    static Config files(Map<String, String> env) {
        String profile = System.getProperty("helidon.config.profile",
                System.getProperty("config.profile", env.getOrDefault("HELIDON_CONFIG_PROFILE", "")));
        Map<String, String> raw = new HashMap<>();
        env.forEach((name, value) -> {
            if (RAW_NAME.matcher(name).matches()) {
                raw.put(name, value);
            }
        });
        Config.Builder b = Config.builder().disableEnvironmentVariablesSource().addSource(ConfigSources.create(raw));
        if (!profile.isBlank()) {
            b.addSource(ConfigSources.classpath("application-" + profile.strip() + ".yaml").optional());
        }
        return b.addSource(ConfigSources.classpath("application.yaml").optional()).build();
    }

    /**
     * The configuration with the environment's overrides applied. Merging a map of overrides
     * over YAML lists fails in Helidon when an index is past the list's end, so the result is
     * one flat source: every value of {@code base}, then the overrides over them.
     */
    static Config withEnvironment(Config base, Map<String, String> env) {
        List<KeyPattern> patterns = patterns(base);
        Map<String, String> overrides = new HashMap<>();
        Map<String, String> helidonForm = new HashMap<>();
        env.forEach((name, value) -> {
            if (name.contains("_dash_") && HELIDON_NAME.matcher(name).matches()) {
                helidonForm.put(name.replace("_dash_", "-").replace('_', '.').toLowerCase(Locale.ROOT), value);
                return;
            }
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
        if (overrides.isEmpty() && helidonForm.isEmpty()) {
            return base;
        }
        Map<String, String> flat = new LinkedHashMap<>();
        base.traverse().filter(Config::isLeaf).forEach(node ->
                node.asString().ifPresent(v -> flat.put(node.key().toString(), v)));
        // Helidon's spelling reaches keys we do not list (all of server.tls, say), but never one
        // that would make a value and a section of one name.
        helidonForm.forEach((key, value) -> {
            if (!conflicts(flat, key)) {
                flat.put(key, value);
            }
        });
        flat.putAll(overrides);
        return Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .addSource(ConfigSources.create(flat))
                .build();
    }

    private static boolean conflicts(Map<String, String> flat, String key) {
        for (String k : flat.keySet()) {
            if (k.startsWith(key + ".") || key.startsWith(k + ".")) {
                return true;
            }
        }
        return false;
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
