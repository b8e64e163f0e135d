package io.vaultbroker.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The named scenarios and their default options (DESIGN targets from issue 6). Immutable.
 */
enum Scenario {
    SMOKE("50 sessions, 200 events/s for 5 s: proves the harness works (CI)",
            "users", "25", "devices", "2", "rate", "200", "duration", "5", "producers", "2"),
    CONNECT("10,000 sessions x 2 subscriptions: connect time, sessions/s, RSS per session",
            "users", "5000", "devices", "2", "rate", "0", "duration", "0"),
    THROUGHPUT("5,000 users x 2 devices, 5,000 events/s for 60 s from 4 producers: loss and latency",
            "users", "5000", "devices", "2", "rate", "5000", "duration", "60", "producers", "4"),
    FANOUT("2,000 admin sessions on /admin/tvl: MESSAGE frames/s",
            "users", "0", "devices", "1", "admins", "2000", "rate", "0", "tvl-rate", "30", "duration", "30"),
    IDLE("nothing happening: database queries/s and CPU of an idle broker",
            "users", "50", "devices", "2", "rate", "0", "duration", "0", "idle-seconds", "30"),
    FAULTS("throughput load; the feed's backend killed every few s and once inside each statement kind; an insert"
            + " held open across the start: rows lost (0), duplicates, kills per kind, worst delay",
            "users", "5000", "devices", "2", "rate", "5000", "duration", "60", "producers", "4",
            "drain-timeout", "20", "fault-interval-ms", "3000", "fault-hunt-ms", "5000",
            "fault-kinds", "after=WHERE id > ;ranges=unnest(;locks=pg_locks", "held-insert", "true", "seed", "0"),
    HOSTILE("2,000 sessions at 2,000 events/s, -Xmx512m, under 3 attacks in turn (idle TCP + half heads, half-sent"
            + " 1 MiB frames, pinned send queues): per phase p99, lost, CONNECTs, heap peak, health after",
            "users", "1000", "devices", "2", "rate", "2000", "producers", "4", "drain-timeout", "5",
            "connect-timeout", "30", "broker-java-opts", "-Xmx512m -XX:+ExitOnOutOfMemoryError", "broker-nofile", "8192",
            "phases", "baseline,idle,frames,pinned", "baseline-seconds", "10", "phase-seconds", "20",
            "honest-per-address", "100", "attack-addresses", "4", "half-heads", "3000", "idle-extra", "500",
            "frame-connections-per-address", "128", "pinned-sessions", "100", "pinned-bytes", "8178892",
            "restart", "true"),
    STARTUP("process start to ready (/observe/health 200 and the 'listening' log line)",
            "users", "0", "devices", "1", "rate", "0", "duration", "0", "repeat", "3");

    /** Options every scenario understands, with their general defaults. */
    static final Map<String, String> COMMON = new LinkedHashMap<>();

    static {
        COMMON.put("users", "0");
        COMMON.put("devices", "1");
        COMMON.put("admins", "0");
        COMMON.put("rate", "0");
        COMMON.put("tvl-rate", "0");
        COMMON.put("duration", "0");
        COMMON.put("producers", "4");
        COMMON.put("rows-per-tx", "1");
        // on: each producer commit waits for the WAL flush (PostgreSQL's default); off: it does not.
        COMMON.put("synchronous-commit", "on");
        COMMON.put("connect-concurrency", "200");
        COMMON.put("connect-timeout", "120");
        COMMON.put("drain-timeout", "30");
        COMMON.put("idle-seconds", "0");
        COMMON.put("repeat", "1");
        COMMON.put("heartbeat", "0,0");
        COMMON.put("client-threads", "2");
        COMMON.put("db", "vault_bench");
        COMMON.put("pg-host", "127.0.0.1");
        COMMON.put("pg-port", "5432");
        COMMON.put("pg-user", "postgres");
        COMMON.put("pg-password", "");
        COMMON.put("broker-jar", "target/vault-broker.jar");
        COMMON.put("broker-java-opts", "-Xmx1g -XX:+ExitOnOutOfMemoryError -XX:+AutoCreateSharedArchive -XX:SharedArchiveFile=target/vault-broker.jsa");
        COMMON.put("broker-env", "");
        COMMON.put("jfr", "");
        COMMON.put("out", "bench/target/results");
    }

    static final Set<String> KNOWN = COMMON.keySet();

    /** What the options of faults and hostile mean (their values are in each scenario's defaults). */
    static final Map<String, String> SCENARIO_OPTIONS = new LinkedHashMap<>();

    static {
        SCENARIO_OPTIONS.put("fault-interval-ms", "faults: mean pause between two kills (each 0.5x..1.5x of it)");
        SCENARIO_OPTIONS.put("fault-hunt-ms", "faults: how long a hunt waits for the feed inside one statement kind");
        SCENARIO_OPTIONS.put("fault-kinds", "faults: name=text;... statement kinds to kill inside once (text it"
                + " contains); other statements seen active are hunted once too, by exact text");
        SCENARIO_OPTIONS.put("held-insert", "faults: hold one insert open across the start, commit it at the end");
        SCENARIO_OPTIONS.put("seed", "faults: seed of the kill timing (0: random, printed)");
        SCENARIO_OPTIONS.put("phases", "hostile: phases in order, of baseline, idle, frames, pinned");
        SCENARIO_OPTIONS.put("baseline-seconds", "hostile: length of the baseline phase (no attack)");
        SCENARIO_OPTIONS.put("phase-seconds", "hostile: length of each attack phase (producers and attack run together)");
        SCENARIO_OPTIONS.put("broker-nofile", "hostile: the broker's open-files limit (0: inherit run.sh's)");
        SCENARIO_OPTIONS.put("honest-per-address", "hostile: honest sessions per source address 127.0.1.x");
        SCENARIO_OPTIONS.put("attack-addresses", "hostile: attack source addresses 127.0.0.2..");
        SCENARIO_OPTIONS.put("half-heads", "hostile idle: half-sent 8 KB request heads");
        SCENARIO_OPTIONS.put("idle-extra", "hostile idle: idle connections beyond what the broker's open-files limit leaves");
        SCENARIO_OPTIONS.put("frame-connections-per-address", "hostile frames: upgraded connections per attack address,"
                + " each announcing a 1,048,576-byte frame and sending all but its last byte");
        SCENARIO_OPTIONS.put("pinned-sessions", "hostile pinned: authenticated sessions (4 KiB receive buffer, never read)");
        SCENARIO_OPTIONS.put("pinned-bytes", "hostile pinned: bytes of ACK id:x receipt:<4000 chars> frames each sends");
        SCENARIO_OPTIONS.put("restart", "hostile: start a new broker for the next phase when one stopped answering");
    }

    final String description;
    final Map<String, String> defaults = new LinkedHashMap<>();

    Scenario(String description, String... kv) {
        this.description = description;
        for (int i = 0; i < kv.length; i += 2) {
            defaults.put(kv[i], kv[i + 1]);
        }
    }

    Map<String, String> options() {
        Map<String, String> m = new LinkedHashMap<>(COMMON);
        m.putAll(defaults);
        return m;
    }

    String label() {
        return name().toLowerCase();
    }
}
