package io.vaultbroker.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;

import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * JWT from {@code passcode} or {@code Authorization: Bearer}. Nimbus checks the signature with
 * keys the {@link KeyRing} selects; claims are checked here against the injected clock.
 * Immutable after construction (the nimbus processor is thread-safe once configured); safe to share.
 */
final class JwtAuthenticator implements Authenticator {

    /** A CONNECT header line is at most 4 KiB; anything longer is not a token we issued. */
    static final int MAX_TOKEN_CHARS = 8192;

    private static final String BEARER = "bearer ";

    private final KeyRing keyRing;
    private final String issuer;
    private final String audience;
    private final Duration clockSkew;
    private final Clock clock;
    private final DefaultJWTProcessor<SecurityContext> processor;

    /**
     * @param issuer   required {@code iss}, or null to accept any
     * @param audience required member of {@code aud}, or null to accept any
     */
    JwtAuthenticator(KeyRing keyRing, String issuer, String audience, Duration clockSkew, Clock clock) {
        this.keyRing = keyRing;
        this.issuer = issuer;
        this.audience = audience;
        this.clockSkew = clockSkew;
        this.clock = clock;
        this.processor = new DefaultJWTProcessor<>();
        processor.setJWSKeySelector(keyRing);
        processor.setJWSVerifierFactory(new KeyFamilyVerifiers());
        processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(
                JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
        // Claims are checked in verifyClaims: nimbus' verifier reads the system clock, ours is injected.
        processor.setJWTClaimsSetVerifier(null);
    }

    @Override
    public Principal authenticate(Credentials c) throws AuthException {
        String token = tokenOf(c);
        SignedJWT jwt = parse(token);
        JWSAlgorithm algorithm = jwt.getHeader().getAlgorithm();
        String kid = jwt.getHeader().getKeyID();
        if (keyRing.candidates(algorithm, kid).isEmpty()) {
            throw new AuthException(keyRing.whyNoCandidate(algorithm, kid));
        }
        JWTClaimsSet claims;
        try {
            claims = processor.process(jwt, null);
        } catch (BadJWSException e) {
            throw new AuthException("bad-signature");
        } catch (BadJWTException e) {
            throw new AuthException("malformed");
        } catch (BadJOSEException e) {
            // Left: a typ header we do not accept.
            throw new AuthException("malformed");
        } catch (JOSEException | RuntimeException e) {
            // A verifier refused the input (odd lengths, critical headers); nothing verified.
            throw new AuthException("bad-signature");
        }
        return verifyClaims(claims);
    }

    /**
     * Bearer header or passcode. Both may be present (some clients copy the token into each) but
     * then they must agree, so a frame never carries two identities.
     */
    private static String tokenOf(Credentials c) throws AuthException {
        String bearer = null;
        if (c.authorization() != null) {
            String header = c.authorization().strip();
            if (!header.toLowerCase(Locale.ROOT).startsWith(BEARER)) {
                throw new AuthException("malformed");
            }
            bearer = header.substring(BEARER.length()).strip();
        }
        String passcode = c.passcode();
        if (passcode != null && passcode.isEmpty()) {
            passcode = null;
        }
        if (bearer != null && passcode != null && !bearer.equals(passcode)) {
            throw new AuthException("malformed");
        }
        String token = bearer != null ? bearer : passcode;
        if (token == null || token.isEmpty()) {
            throw new AuthException("missing");
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new AuthException("malformed");
        }
        return token;
    }

    private static SignedJWT parse(String token) throws AuthException {
        JWT parsed;
        try {
            parsed = JWTParser.parse(token);
        } catch (ParseException | RuntimeException e) {
            throw new AuthException("malformed");
        }
        if (parsed instanceof SignedJWT signed) {
            return signed;
        }
        // alg:none (PlainJWT) or an encrypted JWT: neither is a signed token.
        throw new AuthException("bad-algorithm");
    }

    private Principal verifyClaims(JWTClaimsSet claims) throws AuthException {
        Instant now = clock.instant();

        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw new AuthException("missing-exp");
        }
        Instant expiresAt = exp.toInstant();
        if (now.isAfter(expiresAt.plus(clockSkew))) {
            throw new AuthException("expired");
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.toInstant().isAfter(now.plus(clockSkew))) {
            throw new AuthException("not-yet-valid");
        }
        Date iat = claims.getIssueTime();
        if (iat != null && iat.toInstant().isAfter(now.plus(clockSkew))) {
            throw new AuthException("issued-in-future");
        }

        if (issuer != null && !issuer.equals(claims.getIssuer())) {
            throw new AuthException("wrong-issuer");
        }
        if (audience != null && (claims.getAudience() == null || !claims.getAudience().contains(audience))) {
            throw new AuthException("wrong-audience");
        }

        Set<String> roles = rolesOf(claims);
        String subject = claims.getSubject();
        if (subject == null || subject.isBlank()) {
            throw new AuthException("missing-sub");
        }
        if (!Principal.printable(subject)) {
            throw new AuthException("bad-subject");
        }
        boolean admin = roles.contains(Principal.ADMIN_ROLE);
        // Admins are operators and services, not wallets, so their subject may be any name.
        if (!admin && !Access.isPubkey(subject)) {
            throw new AuthException("bad-subject");
        }
        return new Principal(subject, roles, expiresAt, "jwt");
    }

    private static Set<String> rolesOf(JWTClaimsSet claims) throws AuthException {
        List<String> roles;
        try {
            roles = claims.getStringListClaim("roles");
        } catch (ParseException e) {
            throw new AuthException("malformed");
        }
        if (roles == null) {
            return Set.of();
        }
        for (String role : roles) {
            if (role == null) {
                throw new AuthException("malformed");
            }
        }
        return Set.copyOf(roles);
    }
}
