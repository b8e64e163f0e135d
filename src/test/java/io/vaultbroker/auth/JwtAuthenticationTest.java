package io.vaultbroker.auth;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.interfaces.ECPrivateKey;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Set;

import static io.vaultbroker.auth.TestSupport.CLOCK;
import static io.vaultbroker.auth.TestSupport.NOW;
import static io.vaultbroker.auth.TestSupport.passcode;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The credential matrix: only the valid tokens pass, and each refusal has its category. */
class JwtAuthenticationTest {

    private static final String ISSUER = "https://issuer.example";
    private static final String AUDIENCE = "vault-broker";
    private static final String SECRET_1 = "h1-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123456789ABCDEFG"; // 64 bytes
    private static final String SECRET_2 = "h2-secret-0123456789abcdefghijklmnopqrstuvwxyz-0123456789ABCDEFG";

    private static KeyPair rsa;
    private static KeyPair ec;
    private static KeyPair ed;
    private static KeyPair user;
    private static String userPubkey;
    private static Authenticator authenticator;

    @TempDir
    static Path dir;

    @BeforeAll
    static void configure() throws Exception {
        rsa = TestSupport.keyPair("RSA", 2048);
        ec = TestSupport.keyPair("EC", 256);
        ed = TestSupport.ed25519();
        user = TestSupport.ed25519();
        userPubkey = TestSupport.pubkey(user);

        Path ecPem = dir.resolve("ec.pem");
        Files.writeString(ecPem, TestSupport.pem(ec.getPublic()));
        Path jwks = dir.resolve("jwks.json");
        Files.writeString(jwks, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"ed1\",\"use\":\"sig\",\"x\":\""
                + Base64URL.encode(TestSupport.rawEd25519(ed.getPublic())) + "\"},"
                + "{\"kty\":\"RSA\",\"kid\":\"enc1\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}");

        String rsaPem = TestSupport.pem(rsa.getPublic()).indent(10);
        authenticator = Authenticators.create(TestSupport.authConfig("""
                auth:
                  jwt:
                    issuer: %s
                    audience: %s
                    secrets:
                      - kid: h1
                        secret: %s
                      - kid: h2
                        secret: %s
                    public-keys:
                      - kid: rsa1
                        pem: |
                %s
                      - kid: ec1
                        pem-file: %s
                    jwks-file: %s
                """.formatted(ISSUER, AUDIENCE, SECRET_1, SECRET_2, rsaPem.stripTrailing(), ecPem, jwks)),
                new TestSupport.MemoryLedger(), CLOCK);
    }

    // ---- helpers

    private static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder()
                .subject(userPubkey)
                .issuer(ISSUER)
                .audience(List.of(AUDIENCE, "other-service"))
                .issueTime(Date.from(NOW.minusSeconds(30)))
                .expirationTime(Date.from(NOW.plusSeconds(600)));
    }

    private static JWSHeader header(JWSAlgorithm algorithm, String kid) {
        return new JWSHeader.Builder(algorithm).keyID(kid).type(JOSEObjectType.JWT).build();
    }

    private static String hs(JWSAlgorithm algorithm, String kid, String secret, JWTClaimsSet claims) throws Exception {
        return TestSupport.signed(header(algorithm, kid), claims, new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
    }

    private static String hs256(JWTClaimsSet claims) throws Exception {
        return hs(JWSAlgorithm.HS256, "h1", SECRET_1, claims);
    }

    private static String eddsa(String kid, KeyPair keys, String claimsJson) {
        String headerJson = "{\"alg\":\"EdDSA\",\"kid\":\"" + kid + "\"}";
        byte[] signature = TestSupport.sign("Ed25519", keys.getPrivate(),
                TestSupport.signingInput(headerJson, claimsJson).getBytes(StandardCharsets.US_ASCII));
        return TestSupport.compact(headerJson, claimsJson, signature);
    }

    private static Principal accept(String token) throws AuthException {
        return authenticator.authenticate(passcode(token));
    }

    private static void refuse(String token, String category) {
        refuse(passcode(token), category);
    }

    private static void refuse(Credentials credentials, String category) {
        AuthException e = assertThrows(AuthException.class, () -> authenticator.authenticate(credentials));
        assertThat(e.category(), is(category));
    }

    // ---- valid

    @Test
    void acceptsHs256Hs384Hs512() throws Exception {
        for (JWSAlgorithm algorithm : List.of(JWSAlgorithm.HS256, JWSAlgorithm.HS384, JWSAlgorithm.HS512)) {
            Principal p = accept(hs(algorithm, "h1", SECRET_1, claims().build()));
            assertThat(p.subject(), is(userPubkey));
            assertThat(p.method(), is("jwt"));
            assertThat(p.roles(), is(Set.of()));
            assertThat(p.expiresAt(), is(NOW.plusSeconds(600)));
        }
    }

    @Test
    void acceptsRs256() throws Exception {
        accept(TestSupport.signed(header(JWSAlgorithm.RS256, "rsa1"), claims().build(), new RSASSASigner(rsa.getPrivate())));
    }

    @Test
    void acceptsEs256() throws Exception {
        accept(TestSupport.signed(header(JWSAlgorithm.ES256, "ec1"), claims().build(),
                new ECDSASigner((ECPrivateKey) ec.getPrivate())));
    }

    @Test
    void acceptsEdDsa() throws Exception {
        Principal p = accept(eddsa("ed1", ed, claims().build().toString()));
        assertThat(p.subject(), is(userPubkey));
    }

    @Test
    void tokenWithoutKidIsTriedAgainstItsFamily() throws Exception {
        accept(TestSupport.signed(new JWSHeader(JWSAlgorithm.RS256), claims().build(), new RSASSASigner(rsa.getPrivate())));
        accept(TestSupport.signed(new JWSHeader(JWSAlgorithm.HS256), claims().build(),
                new MACSigner(SECRET_2.getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void rotationAcceptsBothKids() throws Exception {
        accept(hs(JWSAlgorithm.HS256, "h1", SECRET_1, claims().build()));
        accept(hs(JWSAlgorithm.HS256, "h2", SECRET_2, claims().build()));
    }

    @Test
    void bearerHeaderIsACredential() throws Exception {
        String token = hs256(claims().build());
        Principal p = authenticator.authenticate(new Credentials(null, null, "bEaReR " + token, null, null, null));
        assertThat(p.subject(), is(userPubkey));
        // The same token in both places is fine; two different ones are not.
        authenticator.authenticate(new Credentials("x", token, "Bearer " + token, null, null, null));
        String other = hs256(claims().subject(TestSupport.pubkey(TestSupport.ed25519())).build());
        refuse(new Credentials("x", other, "Bearer " + token, null, null, null), "malformed");
        refuse(new Credentials("x", null, "Basic dXNlcjpwYXNz", null, null, null), "malformed");
    }

    @Test
    void rolesAndAdminSubjects() throws Exception {
        Principal admin = accept(hs256(claims().subject("ops-console").claim("roles", List.of("admin", "ops")).build()));
        assertThat(admin.isAdmin(), is(true));
        assertThat(admin.subject(), is("ops-console"));
        assertThat(admin.roles(), is(Set.of("admin", "ops")));
        refuse(hs256(claims().claim("roles", "admin").build()), "malformed");
    }

    @Test
    void skewIsAllowedOnExpAndNbf() throws Exception {
        accept(hs256(claims().expirationTime(Date.from(NOW.minusSeconds(4))).build()));
        accept(hs256(claims().notBeforeTime(Date.from(NOW.plusSeconds(4))).build()));
        accept(hs256(claims().issueTime(Date.from(NOW.plusSeconds(4))).build()));
    }

    // ---- invalid

    @Test
    void refusesExpired() throws Exception {
        refuse(hs256(claims().expirationTime(Date.from(NOW.minusSeconds(6))).build()), "expired");
    }

    @Test
    void refusesNotYetValid() throws Exception {
        refuse(hs256(claims().notBeforeTime(Date.from(NOW.plusSeconds(60))).build()), "not-yet-valid");
    }

    @Test
    void refusesIssuedInTheFuture() throws Exception {
        refuse(hs256(claims().issueTime(Date.from(NOW.plusSeconds(60))).build()), "issued-in-future");
    }

    @Test
    void refusesWrongKey() throws Exception {
        refuse(hs(JWSAlgorithm.HS256, "h1", SECRET_2, claims().build()), "bad-signature");
        refuse(TestSupport.signed(header(JWSAlgorithm.RS256, "rsa1"), claims().build(),
                new RSASSASigner(TestSupport.keyPair("RSA", 2048).getPrivate())), "bad-signature");
        refuse(TestSupport.signed(header(JWSAlgorithm.ES256, "ec1"), claims().build(),
                new ECDSASigner((ECPrivateKey) TestSupport.keyPair("EC", 256).getPrivate())), "bad-signature");
        refuse(eddsa("ed1", TestSupport.ed25519(), claims().build().toString()), "bad-signature");
    }

    @Test
    void refusesAlgorithmNotOfTheKeysFamily() throws Exception {
        // An RSA-signed token naming the HMAC key, and an HMAC token naming the RSA key.
        refuse(TestSupport.signed(header(JWSAlgorithm.RS256, "h1"), claims().build(), new RSASSASigner(rsa.getPrivate())),
                "bad-algorithm");
        refuse(hs(JWSAlgorithm.HS256, "ed1", SECRET_1, claims().build()), "bad-algorithm");
        // PS256 is RSA but not allowed.
        refuse(TestSupport.signed(header(JWSAlgorithm.PS256, "rsa1"), claims().build(), new RSASSASigner(rsa.getPrivate())),
                "bad-algorithm");
    }

    @Test
    void refusesHmacSignedWithThePublicKey() throws Exception {
        // The classic confusion: the verifier's own RSA public key (PEM text, or DER) used as an HMAC secret.
        byte[][] publicKeyAsSecret = {
                TestSupport.pem(rsa.getPublic()).getBytes(StandardCharsets.US_ASCII), rsa.getPublic().getEncoded()};
        for (byte[] secret : publicKeyAsSecret) {
            refuse(TestSupport.signed(header(JWSAlgorithm.HS256, "rsa1"), claims().build(), new MACSigner(secret)),
                    "bad-algorithm");
            refuse(TestSupport.signed(new JWSHeader(JWSAlgorithm.HS256), claims().build(), new MACSigner(secret)),
                    "bad-signature");
        }
    }

    @Test
    void refusesAlgNone() {
        String claimsJson = claims().build().toString();
        refuse(TestSupport.compact("{\"alg\":\"none\"}", claimsJson, new byte[0]), "bad-algorithm");
        refuse(TestSupport.compact("{\"alg\":\"none\",\"kid\":\"h1\"}", claimsJson, new byte[0]), "bad-algorithm");
        // "none" with a signature part attached is not a JWS either.
        refuse(TestSupport.compact("{\"alg\":\"none\"}", claimsJson, new byte[] {1, 2, 3}), "malformed");
        refuse(TestSupport.compact("{\"alg\":\"NONE\"}", claimsJson, new byte[] {1, 2, 3}), "bad-algorithm");
    }

    @Test
    void refusesTamperedPayload() throws Exception {
        String token = hs256(claims().build());
        String[] parts = token.split("\\.");
        String forged = claims().subject("ops-console").claim("roles", List.of("admin")).build().toString();
        refuse(parts[0] + "." + Base64URL.encode(forged.getBytes(StandardCharsets.UTF_8)) + "." + parts[2], "bad-signature");
    }

    @Test
    void refusesUnknownKid() throws Exception {
        refuse(hs(JWSAlgorithm.HS256, "h9", SECRET_1, claims().build()), "unknown-kid");
        // A key listed in the JWKS for encryption never verifies a signature.
        refuse(TestSupport.signed(header(JWSAlgorithm.RS256, "enc1"), claims().build(), new RSASSASigner(rsa.getPrivate())),
                "unknown-kid");
    }

    @Test
    void refusesWrongIssuerAndAudience() throws Exception {
        refuse(hs256(claims().issuer("https://evil.example").build()), "wrong-issuer");
        refuse(hs256(claims().issuer(null).build()), "wrong-issuer");
        refuse(hs256(claims().audience("other-service").build()), "wrong-audience");
        refuse(hs256(claims().audience((String) null).build()), "wrong-audience");
    }

    @Test
    void refusesMissingExp() throws Exception {
        refuse(hs256(claims().expirationTime(null).build()), "missing-exp");
    }

    @Test
    void refusesSubjectThatIsNotAPubkey() throws Exception {
        refuse(hs256(claims().subject("alice").build()), "bad-subject");
        refuse(hs256(claims().subject(Base58.encode(new byte[31])).build()), "bad-subject");
        refuse(hs256(claims().subject(null).build()), "missing-sub");
    }

    @Test
    void refusesGarbageAndAbsence() {
        refuse("not-a-token", "malformed");
        refuse("a.b.c", "malformed");
        refuse("x".repeat(JwtAuthenticator.MAX_TOKEN_CHARS + 1), "malformed");
        refuse(new Credentials("alice", null, null, null, null, null), "missing");
        refuse(new Credentials(null, "", null, null, null, null), "missing");
    }

    @Test
    void refusesUnexpectedTyp() throws Exception {
        JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("h1").type(new JOSEObjectType("JOSE+JSON")).build();
        refuse(TestSupport.signed(header, claims().build(), new MACSigner(SECRET_1.getBytes(StandardCharsets.UTF_8))),
                "malformed");
    }

    @Test
    void unconfiguredIssuerAndAudienceAreNotChecked() throws Exception {
        Authenticator plain = Authenticators.create(TestSupport.authConfig("""
                auth:
                  jwt:
                    secret: %s
                """.formatted(SECRET_1)), new TestSupport.MemoryLedger(), CLOCK);
        String token = hs(JWSAlgorithm.HS256, null,
                SECRET_1, claims().issuer(null).audience((String) null).build());
        assertThat(plain.authenticate(passcode(token)).subject(), is(userPubkey));
        // The single kid-less secret also meets tokens that carry some kid.
        assertThat(plain.authenticate(passcode(hs(JWSAlgorithm.HS256, "any", SECRET_1, claims().build()))).expiresAt(),
                is(NOW.plusSeconds(600)));
    }

    @Test
    void shortSecretOnlyAllowsHs256() throws Exception {
        String secret32 = "0123456789abcdef0123456789abcdef";
        Authenticator plain = Authenticators.create(TestSupport.authConfig("""
                auth:
                  jwt:
                    secret: %s
                """.formatted(secret32)), new TestSupport.MemoryLedger(), CLOCK);
        plain.authenticate(passcode(hs(JWSAlgorithm.HS256, null, secret32, claims().build())));
        // Nimbus refuses to sign HS512 with a short key, so build it by hand.
        String headerJson = "{\"alg\":\"HS512\"}";
        String claimsJson = claims().build().toString();
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA512");
        mac.init(new javax.crypto.spec.SecretKeySpec(secret32.getBytes(StandardCharsets.UTF_8), "HmacSHA512"));
        byte[] signature = mac.doFinal(TestSupport.signingInput(headerJson, claimsJson).getBytes(StandardCharsets.US_ASCII));
        AuthException e = assertThrows(AuthException.class,
                () -> plain.authenticate(passcode(TestSupport.compact(headerJson, claimsJson, signature))));
        assertThat(e.category(), is("bad-algorithm"));
    }
}
