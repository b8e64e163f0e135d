package io.vaultbroker.cli;

import java.io.PrintStream;

/** Lets tests in other packages run the CLI with captured output, without System.exit. */
public final class CliAccess {
    private CliAccess() {
    }

    public static int run(PrintStream out, PrintStream err, String... args) {
        return new Cli(out, err).run(args);
    }
}
