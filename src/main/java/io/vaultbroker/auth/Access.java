package io.vaultbroker.auth;

/**
 * Who may subscribe to what (DESIGN.md, "Destinations"). Stateless.
 *
 * <p>Expiry is not checked here: the broker closes a session whose credential expired, so a
 * live session's principal is valid by construction.
 */
public final class Access {

    /** 32 bytes encode to at most 44 base58 characters; longer input is refused before decoding. */
    private static final int MAX_PUBKEY_CHARS = 44;
    private static final int PUBKEY_BYTES = 32;

    private Access() {
    }

    /**
     * Who may subscribe: owner == null means an admin-only destination (/admin/tvl);
     * anyAuthenticated for /system/health.
     *
     * @param p                the session's principal; null is never allowed
     * @param ownerPubkey      the {@code {pubkey}} of a /user/ destination, or null for admin-only
     * @param anyAuthenticated true when every authenticated session may read (the owner is ignored)
     */
    public static boolean mayRead(Principal p, String ownerPubkey, boolean anyAuthenticated) {
        if (p == null) {
            return false;
        }
        if (anyAuthenticated) {
            return true;
        }
        if (ownerPubkey == null) {
            return p.isAdmin();
        }
        if (!isPubkey(ownerPubkey)) {
            // Such a destination does not exist; refusing here too keeps a routing slip harmless.
            return false;
        }
        return p.isAdmin() || p.subject().equals(ownerPubkey);
    }

    /** A base58 string decoding to exactly 32 bytes, in canonical spelling (re-encoding gives the same string). */
    public static boolean isPubkey(String s) {
        if (s == null || s.isEmpty() || s.length() > MAX_PUBKEY_CHARS) {
            return false;
        }
        byte[] decoded;
        try {
            decoded = Base58.decode(s);
        } catch (IllegalArgumentException e) {
            return false;
        }
        return decoded.length == PUBKEY_BYTES && Base58.encode(decoded).equals(s);
    }
}
