package io.vaultbroker;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

/**
 * Loads {@code application.yaml} (and {@code application-<profile>.yaml} when a profile is set),
 * then lets an environment variable override any key: {@code feed.max-gap-wait} is
 * {@code FEED_MAX_GAP_WAIT}. Helidon's own mapping ({@code FEED_MAX_dash_GAP_dash_WAIT}) also works.
 * Stateless.
 */
final class Configuration {
    private Configuration() {
    }

    static Config load() {
        return withEnvironment(Config.create(), System.getenv());
    }

    /** Layers environment overrides for the keys the configuration already has. */
    static Config withEnvironment(Config base, Map<String, String> env) {
        Map<String, String> overrides = new HashMap<>();
        base.traverse().filter(Config::isLeaf).forEach(node -> {
            String key = node.key().toString();
            String value = env.get(envName(key));
            if (value != null) {
                overrides.put(key, value);
            }
        });
        if (overrides.isEmpty()) {
            return base;
        }
        return Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .addSource(ConfigSources.create(overrides))
                .addSource(ConfigSources.create(base))
                .build();
    }

    static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
