package io.vaultbroker.auth;

import java.time.Duration;

/**
 * Remembers wallet signatures so each is accepted once across instances (implemented over the
 * database elsewhere). Implementations must be safe to call from many threads at once.
 */
public interface SignatureLedger {

    /**
     * Records a signature.
     *
     * @param signatureBase58 the signature in canonical base58
     * @param keepFor         how long from now (by the ledger's own clock) the signature must be
     *                        remembered; after that it is outside the acceptance window anyway
     * @return true only for the first use of this signature
     */
    boolean firstUse(String signatureBase58, Duration keepFor);
}
