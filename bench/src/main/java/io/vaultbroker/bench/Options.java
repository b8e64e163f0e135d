package io.vaultbroker.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Command-line options as {@code --name=value} (or {@code --flag}), layered over a scenario's
 * defaults. Confined to the main thread.
 */
final class Options {
    private final Map<String, String> values = new LinkedHashMap<>();

    Options(Map<String, String> defaults, String[] args, int from) {
        values.putAll(defaults);
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("options look like --name=value: " + a);
            }
            int eq = a.indexOf('=');
            String name = eq < 0 ? a.substring(2) : a.substring(2, eq);
            if (!values.containsKey(name) && !Scenario.KNOWN.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name + " (see bench/run.sh --help)");
            }
            values.put(name, eq < 0 ? "true" : a.substring(eq + 1));
        }
    }

    int i(String name) {
        return Integer.parseInt(s(name));
    }

    long l(String name) {
        return Long.parseLong(s(name));
    }

    double d(String name) {
        return Double.parseDouble(s(name));
    }

    boolean b(String name) {
        return Boolean.parseBoolean(s(name));
    }

    String s(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing option --" + name);
        }
        return v;
    }

    Map<String, String> all() {
        return values;
    }
}
