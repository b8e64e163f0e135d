package io.vaultbroker;

import io.helidon.config.Config;
import io.helidon.logging.common.LogConfig;
import io.helidon.service.registry.Services;

import io.vaultbroker.feed.OutOfMemory;

/**
 * Starts vault-broker: configuration and start-up only; the wiring is in {@link Application}.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        // An Error that escapes a thread of ours or Helidon's is logged and, if it is an
        // OutOfMemoryError, counted (the launcher's -XX:+ExitOnOutOfMemoryError then exits anyway).
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
            if (e instanceof OutOfMemoryError oom) {
                OutOfMemory.record(oom);
            } else {
                System.getLogger(Main.class.getName()).log(System.Logger.Level.ERROR,
                        "uncaught in thread " + t.getName(), e);
            }
        });
        Config config = Configuration.load();
        // Helidon parts that read the global configuration (metrics) get this one: Helidon's own
        // would read the environment its way, and fail on a list entry past the end of a YAML list.
        Services.set(Config.class, config);
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
