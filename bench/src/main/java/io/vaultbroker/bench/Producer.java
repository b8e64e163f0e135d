package io.vaultbroker.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.locks.LockSupport;

/**
 * One producer connection inserting rows into {@code vault_events} on a fixed schedule: row k of
 * the whole run is due at {@code start + k / rate}; this producer takes every {@code producers}-th
 * k. User rows go round-robin over users, alternating balance and tx events per round, so every
 * destination gets the same share. Confined to its own thread.
 */
final class Producer implements Runnable {
    private static final String INSERT =
            "INSERT INTO vault_events (event_type, owner, payload) VALUES (?, ?, ?::jsonb) RETURNING id";

    private final String url;
    private final String user;
    private final String password;
    private final int index;
    private final int producers;
    private final double rate;
    private final long totalRows;
    private final int rowsPerTx;
    private final String[] owners;
    private final boolean tvl;
    private final boolean synchronousCommit;
    private final Ledger ledger;
    private final long startNanos;
    private final long endNanos;
    volatile long committed;
    volatile long maxBehindNanos;
    volatile String error;

    /**
     * @param owners the users' pubkeys, or null for a TVL producer (rows for /admin/tvl)
     */
    Producer(String url, String user, String password, int index, int producers, double rate, long totalRows,
             int rowsPerTx, boolean synchronousCommit, String[] owners, Ledger ledger, long startNanos,
             long endNanos) {
        this.synchronousCommit = synchronousCommit;
        this.url = url;
        this.user = user;
        this.password = password;
        this.index = index;
        this.producers = producers;
        this.rate = rate;
        this.totalRows = totalRows;
        this.rowsPerTx = rowsPerTx;
        this.owners = owners;
        this.tvl = owners == null;
        this.ledger = ledger;
        this.startNanos = startNanos;
        this.endNanos = endNanos;
    }

    @Override
    public void run() {
        try (Connection c = DriverManager.getConnection(url, user, password)) {
            if (!synchronousCommit) {
                // Commit without waiting for the WAL flush: isolates the broker from this disk's fsync.
                try (var st = c.createStatement()) {
                    st.execute("SET synchronous_commit = off");
                }
            }
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(INSERT)) {
                long[] ids = new long[rowsPerTx];
                int[] users = new int[rowsPerTx];
                boolean[] balance = new boolean[rowsPerTx];
                long k = index;
                while (k < totalRows) {
                    long due = startNanos + (long) (k * 1e9 / rate);
                    long now = System.nanoTime();
                    if (due > now) {
                        LockSupport.parkNanos(due - now);
                    } else {
                        maxBehindNanos = Math.max(maxBehindNanos, now - due);
                    }
                    if (System.nanoTime() > endNanos + 1_000_000_000L) {
                        break;
                    }
                    int n = 0;
                    for (; n < rowsPerTx && k < totalRows; n++, k += producers) {
                        ids[n] = insert(ps, k, users, balance, n);
                    }
                    c.commit();
                    long t = System.nanoTime();
                    ledger.transactionCommitted(t);
                    for (int i = 0; i < n; i++) {
                        ledger.committed(ids[i], t, tvl ? Ledger.DEST_TVL : Ledger.dest(users[i], balance[i]));
                        if (tvl) {
                            ledger.committedTvl.incrementAndGet();
                        } else if (balance[i]) {
                            ledger.committedBalance.incrementAndGet(users[i]);
                        } else {
                            ledger.committedTx.incrementAndGet(users[i]);
                        }
                    }
                    ledger.rowsCommitted.add(n);
                    committed += n;
                }
            }
        } catch (SQLException | RuntimeException e) {
            error = e.toString();
        }
    }

    private long insert(PreparedStatement ps, long k, int[] users, boolean[] balance, int n) throws SQLException {
        String type;
        String owner;
        String payload;
        if (tvl) {
            type = "tvl_update";
            owner = null;
            payload = "{\"tvl\":\"" + (1_250_000_000 + k) + ".125000\",\"asset\":\"USDC\",\"vaults\":5000,"
                    + "\"openInterest\":\"812345678.500000\",\"seq\":" + k + "}";
        } else {
            int u = (int) (k % owners.length);
            boolean isBalance = ((k / owners.length) & 1) == 0;
            users[n] = u;
            balance[n] = isBalance;
            owner = owners[u];
            if (isBalance) {
                type = "balance_update";
                payload = "{\"owner\":\"" + owner + "\",\"asset\":\"USDC\",\"balance\":\"" + (100_000 + k % 9_000_000)
                        + ".250000\",\"available\":\"90000.000000\",\"locked\":\"" + (k % 10_000) + ".250000\"}";
            } else {
                type = "transaction_confirmed";
                payload = "{\"owner\":\"" + owner + "\",\"txId\":\"" + Long.toHexString(0x5eed_0000_0000L + k)
                        + "\",\"kind\":\"deposit\",\"amount\":\"" + (k % 100_000) + ".500000\",\"slot\":" + (280_000_000 + k) + "}";
            }
        }
        ps.setString(1, type);
        ps.setString(2, owner);
        ps.setString(3, payload);
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
