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

    /** @param hosts accepted CONNECT hosts; empty means "the upgrade's Host header" */
    WalletAuthenticator(List<String> hosts, Duration window, SignatureLedger ledger, Clock clock) {
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
        if (!hostAccepted(c.host(), c.upgradeHost())) {
            throw new AuthException("wrong-host");
        }

        PublicKey key;
        try {
            key = Ed25519.publicKey(Base58.decode(pubkey));
        } catch (IllegalArgumentException e) {
            throw new AuthException("malformed");
        }
        if (!Ed25519.verify(key, message(c.host(), c.signedAt()), signature)) {
            throw new AuthException("bad-signature");
        }

        // Only a verified signature reaches the ledger, so garbage cannot fill it.
        boolean first;
        try {
            first = ledger.firstUse(Base58.encode(signature), signedAt.plus(window));
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

    private boolean hostAccepted(String host, String upgradeHost) {
        if (host == null || host.isEmpty()) {
            return false;
        }
        if (hosts.isEmpty()) {
            return host.equals(upgradeHost);
        }
        return hosts.contains(host);
    }
}
