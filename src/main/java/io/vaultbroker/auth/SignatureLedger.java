package io.vaultbroker.auth;

import java.time.Instant;

/**
 * Remembers wallet signatures so each is accepted once across instances (implemented over the
 * database elsewhere). Implementations must be safe to call from many threads at once.
 */
public interface SignatureLedger {

    /**
     * Records a signature.
     *
     * @param signatureBase58 the signature in canonical base58
     * @param forgetAfter     after this instant the signature is outside the acceptance window
     *                        anyway, so the ledger may drop it
     * @return true only for the first use of this signature
     */
    boolean firstUse(String signatureBase58, Instant forgetAfter);
}
