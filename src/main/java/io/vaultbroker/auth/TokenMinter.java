package io.vaultbroker.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.Set;

/**
 * Mints HS256 tokens for dev tooling and tests, the way a vault backend would. Immutable; safe to
 * share (nimbus' MACSigner keeps no per-call state).
 */
public final class TokenMinter {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final MACSigner signer;

    /** @throws IllegalArgumentException when the secret is shorter than 32 bytes */
    public TokenMinter(byte[] hmacSecret) {
        if (hmacSecret == null || hmacSecret.length < KeyLoader.MIN_HMAC_BYTES) {
            throw new IllegalArgumentException("an HMAC secret must be at least " + KeyLoader.MIN_HMAC_BYTES + " bytes");
        }
        try {
            this.signer = new MACSigner(hmacSecret.clone());
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable HMAC secret", e);
        }
    }

    /** A token with {@code sub}, {@code roles}, {@code iat} now and {@code exp} now + ttl. */
    public String mint(String subject, Set<String> roles, Duration ttl) {
        Instant now = Instant.now();
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .subject(subject)
                .claim("roles", new ArrayList<>(roles))
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(ttl)))
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("signing failed", e);
        }
        return jwt.serialize();
    }

    /**
     * 256 random bits, as the bytes of their base64url text (43 ASCII bytes), so the same value
     * can be given to the broker as the UTF-8 string {@code AUTH_JWT_SECRET}.
     */
    public static byte[] randomSecret() {
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random).getBytes(StandardCharsets.US_ASCII);
    }
}
