package io.vaultbroker;

import io.helidon.config.Config;
import io.helidon.logging.common.LogConfig;

/**
 * Starts vault-broker: configuration and start-up only; the wiring is in {@link Application}.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        Config config = Configuration.load();
        Application app;
        try {
            app = Application.start(config);
        } catch (Application.StartupException e) {
            System.err.println("vault-broker cannot start: " + e.getMessage());
            System.exit(2);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(app::stop, "vault-broker-shutdown"));
    }
}
