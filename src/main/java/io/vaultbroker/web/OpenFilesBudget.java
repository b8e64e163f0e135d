package io.vaultbroker.web;

import java.lang.management.ManagementFactory;

/**
 * How many TCP connections the process can hold without running out of file descriptors: the
 * open-files limit less headroom for what else needs descriptors (the database pool, the feed,
 * jars, logs, and sockets being refused). Past that limit {@code accept} fails, and Helidon 4.5
 * then stops its listener for good, so the connection budget must stay below it.
 * Immutable, thread-safe.
 *
 * @param limit    the open-files limit the process runs with (soft limit), or -1 when unknown
 * @param headroom descriptors kept free for everything but client connections
 * @param allowed  connections the budget allows: {@code limit - headroom}
 */
record OpenFilesBudget(long limit, long headroom, int allowed) {
    /** When the limit cannot be read (not a Unix JVM): no ceiling of ours beyond this. */
    static final int UNKNOWN_LIMIT_ALLOWS = 50_000;

    /**
     * Reads the process's limit and the descriptors open now.
     *
     * @param reserved descriptors to keep free beyond those open now (pool, feed, files, margin)
     */
    static OpenFilesBudget measure(int reserved) {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean os) {
            return of(os.getMaxFileDescriptorCount(), os.getOpenFileDescriptorCount(), reserved);
        }
        return new OpenFilesBudget(-1, reserved, UNKNOWN_LIMIT_ALLOWS);
    }

    static OpenFilesBudget of(long limit, long openNow, int reserved) {
        long headroom = openNow + reserved;
        return new OpenFilesBudget(limit, headroom, (int) Math.max(0, Math.min(Integer.MAX_VALUE, limit - headroom)));
    }

    /**
     * The TCP connection budget: what the limit allows when {@code configured} is 0 or less,
     * else {@code configured}.
     *
     * @throws IllegalStateException when {@code configured} is above what the limit allows, or
     *                               the limit leaves no room for connections at all
     */
    int total(int configured) {
        if (configured > 0 && limit >= 0 && configured > allowed) {
            throw new IllegalStateException("limits.tcp-connections is " + configured + ", but the open-files limit of "
                    + limit + " allows at most " + allowed + " connections (" + headroom + " descriptors are kept for the"
                    + " database pool, the feed and files). Raise the limit before starting (ulimit -n " + (configured + headroom)
                    + "; systemd: LimitNOFILE=; docker: --ulimit nofile=) or lower LIMITS_TCP_CONNECTIONS.");
        }
        if (configured > 0) {
            return configured;
        }
        if (allowed < 16) {
            throw new IllegalStateException("the open-files limit of " + limit + " leaves room for only " + allowed
                    + " client connections (" + headroom + " descriptors are kept for the database pool, the feed and files)."
                    + " Raise it before starting (ulimit -n 4096 or more; systemd: LimitNOFILE=; docker: --ulimit nofile=).");
        }
        return allowed;
    }
}
