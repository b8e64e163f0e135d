package io.vaultbroker.broker;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.vaultbroker.auth.Base58;
import io.vaultbroker.auth.Principal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who may subscribe to what, over every destination form a client could write, including the
 * spellings an attacker would try: only the exact spellings of DESIGN.md §2 parse, and of those
 * only the intended principals may read.
 */
class DestinationAuthorizationMatrixTest {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String a = key(32, false);
    private final String b = key(32, false);
    private final Principal userA = new Principal(a, Set.of(), null, "jwt");
    private final Principal userB = new Principal(b, Set.of(), null, "wallet");
    private final Principal admin = new Principal("ops-admin", Set.of("admin"), null, "jwt");
    // A token whose subject is A's key in another case, or with a role that only looks like admin.
    private final Principal caseTwin = new Principal(swapCase(a), Set.of("Admin", "ADMIN", "admin "), null, "jwt");

    @Test
    void onlyTheIntendedPrincipalsPass() {
        Map<String, Set<Principal>> allowed = new LinkedHashMap<>();
        allowed.put("/user/" + a + "/balance", Set.of(userA, admin));
        allowed.put("/user/" + a + "/tx", Set.of(userA, admin));
        allowed.put("/user/" + b + "/balance", Set.of(userB, admin));
        allowed.put("/user/" + b + "/tx", Set.of(userB, admin));
        allowed.put("/admin/tvl", Set.of(admin));
        allowed.put("/system/health", Set.of(userA, userB, admin, caseTwin));

        List<Principal> everyone = List.of(userA, userB, admin, caseTwin);
        List<String> failures = new ArrayList<>();
        for (var e : allowed.entrySet()) {
            Optional<Destination> d = Destination.parse(e.getKey());
            if (d.isEmpty()) {
                failures.add("does not parse: " + e.getKey());
                continue;
            }
            assertEquals(e.getKey(), d.get().name(), "a destination keeps the client's exact spelling");
            for (Principal p : everyone) {
                boolean expected = e.getValue().contains(p);
                if (d.get().readableBy(p) != expected) {
                    failures.add(p.subject() + (expected ? " refused " : " allowed ") + e.getKey());
                }
            }
            if (d.get().readableBy(null)) {
                failures.add("no principal allowed " + e.getKey());
            }
        }
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    @Test
    void everyOtherSpellingIsNoDestinationAtAll() {
        List<String> hostile = new ArrayList<>();
        for (String tail : List.of("balance", "tx")) {
            String own = "/user/" + a + "/" + tail;
            hostile.addAll(List.of(
                    own + "/",                                            // trailing slash
                    own + "//",
                    "/USER/" + a + "/" + tail,
                    "/User/" + a + "/" + tail,
                    "/user/" + a + "/" + tail.toUpperCase(Locale.ROOT),
                    "/user/" + a + "/../" + b + "/" + tail,               // dot segments
                    "/user/" + b + "/../" + a + "/" + tail,
                    "/user/" + a + "/./" + tail,
                    "/user/./" + a + "/" + tail,
                    "/user/../user/" + a + "/" + tail,
                    "/./user/" + a + "/" + tail,
                    "/user/" + a + "/" + tail + "/..",
                    "/user/" + a + "/" + tail + "/.",
                    "/user/" + a + "%2F" + tail,                          // percent-encoding
                    "/user/" + a + "%2f" + tail,
                    "/user%2F" + a + "/" + tail,
                    "%2Fuser/" + a + "/" + tail,
                    "/user/%" + hex(a.charAt(0)) + a.substring(1) + "/" + tail,
                    "/user/" + a + "/%" + hex(tail.charAt(0)) + tail.substring(1),
                    "/user/" + a + "/" + tail + "%00",
                    "/user/" + a + "%2F..%2F" + b + "/" + tail,
                    "/user//" + tail,                                     // empty segments
                    "//user/" + a + "/" + tail,
                    "/user/" + a + "//" + tail,
                    "/user//" + a + "/" + tail,
                    "user/" + a + "/" + tail,                             // no leading slash
                    "/user/" + a,
                    "/user/" + a + "/",
                    "/user/" + a + "/" + tail + "/extra",
                    " /user/" + a + "/" + tail,                           // whitespace
                    "/user/" + a + "/" + tail + " ",
                    "/user/ " + a + "/" + tail,
                    "/user/" + a + " /" + tail,
                    "/user/" + a + "/" + tail + "\t",
                    "/user/" + a + "/" + tail + "\n",
                    "/user/" + a + "/" + tail + "\u0000",
                    "/user/" + a + "/" + tail + "\u00a0",
                    "\u200b/user/" + a + "/" + tail,
                    "/user/" + a + "\uff0f" + tail,                       // look-alike slashes
                    "/user/" + a + "\\" + tail,
                    "\\user\\" + a + "\\" + tail,
                    "/user/" + a + "/" + tail + "?x=1",                   // URL syntax
                    "/user/" + a + "/" + tail + "#x",
                    "/user/" + a + "/" + tail + ";x",
                    "/user/*/" + tail,                                    // wildcards
                    "/user/>/" + tail,
                    "/user/#/" + tail,
                    "/user/" + a + "/*",
                    "/user/" + key(31, false) + "/" + tail,              // not 32 bytes
                    "/user/" + key(33, false) + "/" + tail,
                    "/user/" + key(64, false) + "/" + tail,
                    "/user/1" + a + "/" + tail,                          // non-canonical base58
                    "/user/11" + a + "/" + tail,
                    "/user/" + key(32, true).substring(1) + "/" + tail,
                    "/user/" + a.substring(1) + "/" + tail,
                    "/user/" + a + "1/" + tail,
                    "/user/" + a.replace(a.charAt(3), '0') + "/" + tail, // characters outside base58
                    "/user/" + a.substring(0, 10) + "O" + a.substring(11) + "/" + tail,
                    "/user/" + a.substring(0, 10) + "l" + a.substring(11) + "/" + tail,
                    "/user/" + a.substring(0, 10) + "\u0661" + a.substring(11) + "/" + tail,
                    "/user/ops-admin/" + tail,                           // an admin's subject is no pubkey
                    "/user/admin/" + tail,
                    "/user//../" + tail));
        }
        hostile.addAll(List.of(
                "/admin/tvl/", "/ADMIN/tvl", "/admin/TVL", "/Admin/Tvl", "/admin//tvl", "//admin/tvl", "/admin/./tvl",
                "/admin/tvl/..", "/user/../admin/tvl", "/admin/tvl ", " /admin/tvl", "/admin/tvl\n", "/admin%2Ftvl",
                "/admin/tv%6C", "%2Fadmin%2Ftvl", "/admin/tvl\u0000", "/admin", "/admin/", "/admin/*", "/admin/tvl?x",
                "/system/health/", "/SYSTEM/health", "/system/Health", "/system//health", "/system/health ",
                "/system%2Fhealth", "/system/health/../../admin/tvl", "/system", "/system/",
                "", " ", "/", "//", "/user", "/user/", "/user//", "/user///", "*", ">", "#", "/#", "/topic/x",
                "/queue/x", "/user/" + a + "/balance,/admin/tvl"));

        List<String> parsed = new ArrayList<>();
        for (String s : hostile) {
            var d = Destination.parse(s);
            // A mutation of a random key can land on another valid key (a 43-character base58
            // string may be 32 bytes): that is another user's destination, and A may not read it.
            boolean anotherUsersKey = d.isPresent() && d.get().owner() != null && !d.get().owner().equals(a)
                    && !d.get().readableBy(userA);
            if (d.isPresent() && !anotherUsersKey) {
                parsed.add(printable(s));
            }
        }
        assertTrue(parsed.isEmpty(), "these parsed but must not: " + parsed);
        assertTrue(Destination.parse(null).isEmpty());
        System.out.printf("authorization matrix: %d hostile destination spellings, none parsed%n", hostile.size());
    }

    @Test
    void aPubkeyInAnotherCaseIsAnotherUsersKeyOrNothing() {
        // Base58 is case-sensitive: another case is either invalid or a different 32-byte key,
        // which is then someone else's destination that A may not read.
        for (String variant : List.of(swapCase(a), a.toUpperCase(Locale.ROOT), a.toLowerCase(Locale.ROOT))) {
            if (variant.equals(a)) {
                continue;
            }
            for (String tail : List.of("/balance", "/tx")) {
                Optional<Destination> d = Destination.parse("/user/" + variant + tail);
                if (d.isPresent()) {
                    assertEquals(variant, d.get().owner());
                    assertTrue(!d.get().readableBy(userA), "A may not read " + variant);
                    // Roles spelled Admin/ADMIN grant nothing: only the owner of exactly that key reads it.
                    assertEquals(caseTwin.subject().equals(variant), d.get().readableBy(caseTwin));
                    assertTrue(d.get().readableBy(admin));
                }
            }
        }
    }

    @Test
    void aDestinationBuiltFromARowMatchesOnlyTheExactSpelling() {
        Destination routed = Destination.forEvent("balance_update", a);
        assertEquals(Destination.parse("/user/" + a + "/balance").orElseThrow(), routed);
        assertTrue(!routed.equals(Destination.parse("/user/" + b + "/balance").orElseThrow()));
        assertEquals(Destination.parse("/user/" + a + "/tx").orElseThrow(), Destination.forEvent("transaction_failed", a));
        assertEquals(Destination.parse("/admin/tvl").orElseThrow(), Destination.forEvent("tvl_update", null));
    }

    /** Base58 of n random bytes; leadingZero puts a zero byte first (canonical form starts with '1'). */
    private static String key(int bytes, boolean leadingZero) {
        byte[] k = new byte[bytes];
        RANDOM.nextBytes(k);
        k[0] = leadingZero ? 0 : (byte) (k[0] | 1);
        return Base58.encode(k);
    }

    private static String swapCase(String s) {
        StringBuilder out = new StringBuilder();
        for (char c : s.toCharArray()) {
            out.append(Character.isUpperCase(c) ? Character.toLowerCase(c) : Character.toUpperCase(c));
        }
        return out.toString();
    }

    private static String hex(char c) {
        return String.format("%02X", (int) c);
    }

    private static String printable(String s) {
        return s.replace("\n", "\\n").replace("\t", "\\t").replace("\u0000", "\\0");
    }
}
