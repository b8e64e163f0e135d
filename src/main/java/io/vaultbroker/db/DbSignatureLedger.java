package io.vaultbroker.db;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.helidon.dbclient.DbClient;

import io.vaultbroker.auth.SignatureLedger;

/**
 * Remembers used wallet sign-in signatures in PostgreSQL, so a signature is accepted once across
 * every broker instance. Only a SHA-256 of the signature is stored, so the signature itself never
 * reaches the database or a JDBC trace log. Both the expiry written and the purge use the
 * database's clock, so instances whose clocks disagree never forget a signature early.
 * Thread-safe: the primary key decides between racing inserts.
 */
public final class DbSignatureLedger implements SignatureLedger {
    private static final System.Logger LOG = System.getLogger(DbSignatureLedger.class.getName());
    private final DbClient db;

    public DbSignatureLedger(DbClient db) {
        this.db = db;
    }

    @Override
    public boolean firstUse(String signatureBase58, Duration keepFor) {
        long inserted = db.execute().insert("INSERT INTO vault_broker_signatures (signature, forget_after)"
                        + " VALUES (?, now() + ? * interval '1 millisecond') ON CONFLICT (signature) DO NOTHING",
                digest(signatureBase58), Math.max(0, keepFor.toMillis()));
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

    /** Forgets signatures whose window has passed, by the database's clock; returns how many. */
    public long purge() {
        return db.execute().delete("DELETE FROM vault_broker_signatures WHERE forget_after < now()");
    }

    /**
     * Purges every {@code interval} on the scheduler, whether or not retention runs: each instance
     * purges (the delete is idempotent), so no lock is needed.
     */
    public void start(ScheduledExecutorService scheduler, Duration interval) {
        long ms = Math.max(10, interval.toMillis());
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                long n = purge();
                if (n > 0) {
                    LOG.log(System.Logger.Level.DEBUG, "forgot " + n + " expired wallet sign-in signatures");
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "signature ledger purge failed: " + e.getClass().getSimpleName());
            }
        }, ms, ms, TimeUnit.MILLISECONDS);
    }
}
