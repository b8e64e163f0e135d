package io.vaultbroker.jobs;

import io.helidon.dbclient.DbTransaction;

/**
 * The one-instance-at-a-time rule of the jobs: a transaction-scoped PostgreSQL advisory lock,
 * taken without waiting, so an instance that finds it held skips its turn. Stateless.
 */
final class AdvisoryLock {
    private AdvisoryLock() {
    }

    /** Takes the lock for the rest of the transaction; false when another instance holds it. */
    static boolean tryTake(DbTransaction tx, long key) {
        return tx.get("SELECT pg_try_advisory_xact_lock(?) AS locked", key)
                .map(r -> r.column("locked").get(Boolean.class)).orElse(false);
    }
}
