package io.vaultbroker.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads CPU time and resident memory of processes from /proc (Linux). Stateless, thread-safe.
 */
final class ProcStats {
    // USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK); /proc/<pid>/stat counts in it.
    private static final double TICKS_PER_SECOND = 100.0;

    private ProcStats() {
    }

    /** Resident set size in KiB, or -1 when the process is gone. */
    static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** User + system CPU seconds of a process, or -1 when it is gone. */
    static double cpuSeconds(long pid) {
        try {
            return cpuOf(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** CPU seconds of this JVM (the generator). */
    static double selfCpuSeconds() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime() / 1e9;
        }
        return cpuSeconds(ProcessHandle.current().pid());
    }

    /** User + system CPU seconds of all processes whose command is {@code postgres}. */
    static double postgresCpuSeconds() {
        double total = 0;
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) dirs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    int open = stat.indexOf('(');
                    int close = stat.lastIndexOf(')');
                    if (open >= 0 && close > open && stat.substring(open + 1, close).equals("postgres")) {
                        total += cpuOf(stat);
                    }
                } catch (IOException | RuntimeException e) {
                    // the process ended meanwhile
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return total;
    }

    /** Busy and total jiffies of the whole machine, from the first line of /proc/stat. */
    static long[] machineTicks() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/stat"));
            String[] f = lines.getFirst().trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            return new long[] {0, 0};
        }
    }

    private static double cpuOf(String stat) {
        // Fields after the command (which may contain spaces) start at field 3: state.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
        // utime and stime are fields 14 and 15 of the whole line, 12 and 13 here (0-based 11, 12).
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
    }

    /** A CPU snapshot of broker, generator, PostgreSQL and the machine, to subtract later. */
    record Cpu(long nanos, double broker, double generator, double postgres, long machineBusy, long machineTotal) {
        static Cpu take(long brokerPid) {
            long[] m = machineTicks();
            return new Cpu(System.nanoTime(), cpuSeconds(brokerPid), selfCpuSeconds(), postgresCpuSeconds(), m[0], m[1]);
        }

        /** Cores used (CPU seconds per wall second) between {@code before} and this. */
        Usage since(Cpu before) {
            double wall = (nanos - before.nanos) / 1e9;
            long total = machineTotal - before.machineTotal;
            return new Usage(wall, (broker - before.broker) / wall, (generator - before.generator) / wall,
                    (postgres - before.postgres) / wall,
                    total <= 0 ? 0 : 100.0 * (machineBusy - before.machineBusy) / total);
        }
    }

    /** Cores used by each party over a window, and the machine's busy percentage. */
    record Usage(double seconds, double brokerCores, double generatorCores, double postgresCores, double machineBusyPct) {
        /** Cores busy with anything else on the machine (other users' builds and tests skew the numbers). */
        double otherCores() {
            double busy = machineBusyPct / 100.0 * Runtime.getRuntime().availableProcessors();
            return Math.max(0, busy - brokerCores - generatorCores - postgresCores);
        }
    }
}
