package io.vaultbroker.db;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HexFormat;

import io.helidon.dbclient.DbClient;

import io.vaultbroker.auth.SignatureLedger;

/**
 * Remembers used wallet sign-in signatures in PostgreSQL, so a signature is accepted once across
 * every broker instance. Only a SHA-256 of the signature is stored, so the signature itself never
 * reaches the database or a JDBC trace log. Thread-safe: the primary key decides between racing inserts.
 */
public final class DbSignatureLedger implements SignatureLedger {
    private final DbClient db;

    public DbSignatureLedger(DbClient db) {
        this.db = db;
    }

    @Override
    public boolean firstUse(String signatureBase58, Instant forgetAfter) {
        long inserted = db.execute().insert("INSERT INTO vault_broker_signatures (signature, forget_after) VALUES (?, ?)"
                + " ON CONFLICT (signature) DO NOTHING", digest(signatureBase58), Timestamp.from(forgetAfter));
        return inserted == 1;
    }

    static String digest(String signatureBase58) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(signatureBase58.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Forgets signatures whose window has passed; returns how many. */
    public long purge() {
        return db.execute().delete("DELETE FROM vault_broker_signatures WHERE forget_after < now()");
    }
}
