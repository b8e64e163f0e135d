package io.vaultbroker.it;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Concurrent producers that make the change table hard to read: interleaved transactions that
 * commit out of id order, sleep while holding their ids, roll back, or fail half-way through a
 * multi-row insert. Records what committed.
 */
final class Producers {
    /** A committed row. */
    record Row(long id, String type, String owner) {
    }

    static final String[] TYPES = {"balance_update", "collateral_locked", "collateral_unlocked", "transaction_confirmed",
        "transaction_failed"};

    private Producers() {
    }

    /** Runs the producers to completion and returns every committed row. */
    static List<Row> run(int connections, int transactionsEach, List<String> owners, long seed) throws Exception {
        ConcurrentLinkedQueue<Row> committed = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        List<Future<?>> futures = new ArrayList<>();
        for (int p = 0; p < connections; p++) {
            Random random = new Random(seed + p);
            futures.add(pool.submit(() -> {
                try (Connection c = TestDb.connect()) {
                    c.setAutoCommit(false);
                    for (int t = 0; t < transactionsEach; t++) {
                        oneTransaction(c, random, owners, committed);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();
        return new ArrayList<>(committed);
    }

    private static void oneTransaction(Connection c, Random random, List<String> owners,
                                       ConcurrentLinkedQueue<Row> committed) throws SQLException, InterruptedException {
        List<Row> mine = new ArrayList<>();
        int rows = 1 + random.nextInt(3);
        for (int i = 0; i < rows; i++) {
            String owner = owners.get(random.nextInt(owners.size()));
            String type = TYPES[random.nextInt(TYPES.length)];
            long id = TestDb.insert(c, type, owner, "{\"n\":" + random.nextInt(1_000_000) + "}");
            mine.add(new Row(id, type, owner));
            if (random.nextInt(4) == 0) {
                Thread.sleep(random.nextInt(25));
            }
        }
        int fate = random.nextInt(100);
        if (fate < 12) {
            c.rollback();
        } else if (fate < 16) {
            // A multi-row insert that draws ids and then fails on the second row.
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO vault_events (event_type, owner, payload) VALUES"
                        + " ('balance_update', 'nobody', '{}'), ('balance_update', 'nobody', NULL)");
            } catch (SQLException expected) {
                c.rollback();
            }
        } else {
            c.commit();
            committed.addAll(mine);
        }
    }
}
