package io.vaultbroker.auth;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Wallet sign-in: an Ed25519 signature by the pubkey in {@code login} over
 * {@code "vault-broker sign-in\nhost:<host>\nsigned-at:<unix seconds>"}, fresh and used once.
 * {@code <host>} is the CONNECT frame's {@code host} header and must be one of the configured
 * dapp hosts: both Host headers are the client's own word, so only the operator's list binds a
 * signature to this deployment (a page elsewhere that gets a user to sign gets nothing here).
 * Immutable; safe to share (the ledger is responsible for its own thread safety).
 */
final class WalletAuthenticator implements Authenticator {

    static final String MESSAGE_PREFIX = "vault-broker sign-in\nhost:";

    private static final Logger LOG = System.getLogger(WalletAuthenticator.class.getName());

    /** 64 bytes encode to at most 88 base58 characters. */
    private static final int MAX_SIGNATURE_CHARS = 88;
    /** Twelve digits reach the year 33658 and can never overflow a long. */
    private static final Pattern UNIX_SECONDS = Pattern.compile("[0-9]{1,12}");

    private final List<String> hosts;
    private final Duration window;
    private final SignatureLedger ledger;
    private final Clock clock;

    /** @param hosts accepted CONNECT hosts, compared as strings; never empty (then sign-in is off) */
    WalletAuthenticator(List<String> hosts, Duration window, SignatureLedger ledger, Clock clock) {
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("wallet sign-in needs at least one host");
        }
        this.hosts = List.copyOf(hosts);
        this.window = window;
        this.ledger = ledger;
        this.clock = clock;
    }

    static byte[] message(String host, String signedAt) {
        return (MESSAGE_PREFIX + host + "\nsigned-at:" + signedAt).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public Principal authenticate(Credentials c) throws AuthException {
        String pubkey = c.login();
        if (pubkey == null || c.passcode() == null || c.signedAt() == null) {
            throw new AuthException("missing");
        }
        if (!Access.isPubkey(pubkey)) {
            throw new AuthException("malformed");
        }
        byte[] signature = signatureBytes(c.passcode());
        if (!UNIX_SECONDS.matcher(c.signedAt()).matches()) {
            throw new AuthException("malformed");
        }
        Instant signedAt = Instant.ofEpochSecond(Long.parseLong(c.signedAt()));
        Instant now = clock.instant();
        if (signedAt.isBefore(now.minus(window))) {
            throw new AuthException("stale");
        }
        if (signedAt.isAfter(now.plus(window))) {
            throw new AuthException("future");
        }
        if (c.host() == null || !hosts.contains(c.host())) {
            throw new AuthException("wrong-host");
        }

        byte[] raw = Base58.decode(pubkey);
        Ed25519.Point point = Ed25519.decode(raw, 0);
        if (point == null) {
            throw new AuthException("malformed");
        }
        if (point.smallOrder()) {
            // A small-order key "signs" every message with a forged signature: no one holds it.
            throw new AuthException("weak-key");
        }
        PublicKey key;
        try {
            key = Ed25519.publicKey(raw);
        } catch (IllegalArgumentException e) {
            throw new AuthException("malformed");
        }
        if (!Ed25519.verify(key, message(c.host(), c.signedAt()), signature)) {
            throw new AuthException("bad-signature");
        }

        // Only a verified signature reaches the ledger, so garbage cannot fill it.
        boolean first;
        try {
            // Kept until the signature is stale by our clock, plus a window of margin for the time
            // until the insert; the ledger counts it from the database's now(), so an offset
            // between our clock and the database's never makes it forget early.
            Duration keep = Duration.between(now, signedAt.plus(window)).plus(window);
            first = ledger.firstUse(Base58.encode(signature), keep);
        } catch (RuntimeException e) {
            // Fail closed: without the ledger a replay cannot be ruled out.
            LOG.log(Level.WARNING, "wallet sign-in refused: signature ledger unavailable ({0})",
                    e.getClass().getSimpleName());
            throw new AuthException("ledger-unavailable");
        }
        if (!first) {
            throw new AuthException("replayed");
        }
        return new Principal(pubkey, Set.of(), null, "wallet");
    }

    private static byte[] signatureBytes(String base58) throws AuthException {
        if (base58.isEmpty() || base58.length() > MAX_SIGNATURE_CHARS) {
            throw new AuthException("malformed");
        }
        byte[] bytes;
        try {
            bytes = Base58.decode(base58);
        } catch (IllegalArgumentException e) {
            throw new AuthException("malformed");
        }
        if (bytes.length != Ed25519.SIGNATURE_BYTES) {
            throw new AuthException("malformed");
        }
        return bytes;
    }
}
