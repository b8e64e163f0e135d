package io.vaultbroker.auth;

import io.helidon.config.Config;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Builds the authenticator from the {@code auth} config node. Keys (all optional):
 * <pre>
 * mode               jwt | none                       default jwt
 * jwt.secret         HMAC secret, UTF-8, >= 32 bytes  (env AUTH_JWT_SECRET)
 * jwt.secrets        [{kid, secret}]                  rotation
 * jwt.public-keys    [{kid, pem | pem-file}]          RSA (RS256), EC P-256 (ES256), Ed25519 (EdDSA)
 * jwt.jwks-file      path of a JWKS JSON file
 * jwt.issuer         required iss                     default: not checked
 * jwt.audience       required aud member              default: not checked
 * jwt.clock-skew     Duration                         default PT5S
 * wallet.enabled     boolean                          default true (on only when hosts are listed)
 * wallet.hosts       [string]                         the dapp hosts signatures name; default none: sign-in off
 * wallet.window      Duration                         default PT60S
 * </pre>
 * Stateless.
 */
public final class Authenticators {

    static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(5);
    static final Duration DEFAULT_WALLET_WINDOW = Duration.ofSeconds(60);

    private static final Logger LOG = System.getLogger(Authenticators.class.getName());

    private Authenticators() {
    }

    /**
     * Builds from the {@code auth} config node.
     *
     * @throws IllegalStateException with an actionable message (which key or env var to set) when
     *                               the configuration is unusable, e.g. mode jwt without key material
     */
    public static Authenticator create(Config auth, SignatureLedger ledger, Clock clock) {
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(clock, "clock");
        String mode = auth.get("mode").asString().orElse("jwt").strip().toLowerCase(Locale.ROOT);
        return switch (mode) {
            case "none" -> {
                LOG.log(Level.WARNING, "auth.mode=none: any CONNECT login is accepted without a credential. "
                        + "Development only; never expose this broker.");
                yield new DevAuthenticator();
            }
            case "jwt" -> createJwtMode(auth, ledger, clock);
            default -> throw new IllegalStateException("auth.mode (env AUTH_MODE) is '" + mode
                    + "'; expected 'jwt' (default) or 'none' (development only)");
        };
    }

    private static Authenticator createJwtMode(Config auth, SignatureLedger ledger, Clock clock) {
        Config jwtNode = auth.get("jwt");
        KeyRing keyRing = KeyLoader.load(jwtNode);
        if (keyRing.isEmpty()) {
            throw new IllegalStateException("auth.mode is jwt but no JWT verification key is configured. Set "
                    + "auth.jwt.secret (env AUTH_JWT_SECRET, an HMAC secret of at least " + KeyLoader.MIN_HMAC_BYTES
                    + " bytes), or auth.jwt.secrets, auth.jwt.public-keys or auth.jwt.jwks-file; "
                    + "for local development without tokens set auth.mode=none (env AUTH_MODE=none).");
        }
        String issuer = optional(jwtNode.get("issuer"));
        String audience = optional(jwtNode.get("audience"));
        Duration clockSkew = nonNegative(jwtNode.get("clock-skew"), DEFAULT_CLOCK_SKEW, "auth.jwt.clock-skew");
        JwtAuthenticator jwt = new JwtAuthenticator(keyRing, issuer, audience, clockSkew, clock);

        Config walletNode = auth.get("wallet");
        boolean walletEnabled = walletNode.get("enabled").asBoolean().orElse(true);
        List<String> hosts = walletNode.get("hosts").asList(String.class).orElse(List.of());
        for (String host : hosts) {
            if (host.isEmpty() || !Principal.printable(host) || !host.strip().equals(host)) {
                throw new IllegalStateException("auth.wallet.hosts holds '" + host.replaceAll("\\p{Cntrl}", "?")
                        + "', which is not a host; list the dapp's hosts as browsers send them, e.g. app.example.com");
            }
        }
        WalletAuthenticator wallet = null;
        Duration window = DEFAULT_WALLET_WINDOW;
        String walletState;
        if (!walletEnabled) {
            walletState = "off";
        } else if (hosts.isEmpty()) {
            // Both Host headers are the client's own word: without the operator's list a signature
            // made for any page would sign in here, so sign-in stays off.
            walletState = "off (auth.wallet.hosts lists no host; set AUTH_WALLET_HOSTS_0=app.example.com to turn it on)";
        } else {
            if (ledger == null) {
                throw new IllegalStateException("wallet sign-in needs a signature ledger; "
                        + "pass one, or set auth.wallet.enabled=false (env AUTH_WALLET_ENABLED=false)");
            }
            window = nonNegative(walletNode.get("window"), DEFAULT_WALLET_WINDOW, "auth.wallet.window");
            if (window.isZero()) {
                throw new IllegalStateException("auth.wallet.window must be positive, e.g. PT60S");
            }
            wallet = new WalletAuthenticator(hosts, window, ledger, clock);
            walletState = "on (hosts " + hosts + ", window " + window + ")";
        }

        LOG.log(Level.INFO, "auth: jwt keys {0}, issuer {1}, audience {2}, clock skew {3}; wallet sign-in {4}",
                keyRing.keys(), issuer == null ? "not checked" : issuer,
                audience == null ? "not checked" : audience, clockSkew, walletState);
        return new ConnectAuthenticator(jwt, wallet);
    }

    private static String optional(Config node) {
        String value = node.asString().orElse("");
        return value.isBlank() ? null : value;
    }

    private static Duration nonNegative(Config node, Duration fallback, String key) {
        Duration value;
        try {
            value = node.as(Duration.class).orElse(fallback);
        } catch (RuntimeException e) {
            throw new IllegalStateException(key + " must be an ISO-8601 duration such as PT5S");
        }
        if (value.isNegative()) {
            throw new IllegalStateException(key + " must not be negative");
        }
        return value;
    }
}
