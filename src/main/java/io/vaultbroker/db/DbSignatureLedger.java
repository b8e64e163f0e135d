package io.vaultbroker.db;

import java.time.Instant;
import java.sql.Timestamp;

import io.helidon.dbclient.DbClient;

import io.vaultbroker.auth.SignatureLedger;

/**
 * Remembers used wallet sign-in signatures in PostgreSQL, so a signature is accepted once across
 * every broker instance. Thread-safe: the primary key decides between racing inserts.
 */
public final class DbSignatureLedger implements SignatureLedger {
    private final DbClient db;

    public DbSignatureLedger(DbClient db) {
        this.db = db;
    }

    @Override
    public boolean firstUse(String signatureBase58, Instant forgetAfter) {
        long inserted = db.execute().insert("INSERT INTO vault_broker_signatures (signature, forget_after) VALUES (?, ?)"
                + " ON CONFLICT (signature) DO NOTHING", signatureBase58, Timestamp.from(forgetAfter));
        return inserted == 1;
    }

    /** Forgets signatures whose window has passed; returns how many. */
    public long purge() {
        return db.execute().delete("DELETE FROM vault_broker_signatures WHERE forget_after < now()");
    }
}
