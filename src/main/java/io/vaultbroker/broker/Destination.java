package io.vaultbroker.broker;

import java.util.Optional;

import io.vaultbroker.auth.Access;
import io.vaultbroker.auth.Principal;

/**
 * A destination clients subscribe to, in the only spelling that matches (DESIGN.md §2).
 * Immutable, thread-safe.
 *
 * @param kind  what flows there
 * @param owner the pubkey of a user destination, {@code null} otherwise
 * @param name  the destination string as clients write it
 */
public record Destination(Kind kind, String owner, String name) {
    /** The kinds of destination. */
    public enum Kind {
        USER_BALANCE, USER_TX, ADMIN_TVL, SYSTEM_HEALTH;

        /** Lower-case label for metrics. */
        public String label() {
            return name().toLowerCase();
        }
    }

    static final String TVL = "/admin/tvl";
    static final String HEALTH = "/system/health";
    private static final Destination TVL_DESTINATION = new Destination(Kind.ADMIN_TVL, null, TVL);
    private static final Destination HEALTH_DESTINATION = new Destination(Kind.SYSTEM_HEALTH, null, HEALTH);
    private static final String USER = "/user/";

    /**
     * Parses a client's destination. Anything but the exact spellings of DESIGN.md §2 is empty:
     * no trailing slash, no empty or dot segments, no percent-encoding, no case folding, and the
     * pubkey must be canonical base58 of 32 bytes.
     */
    public static Optional<Destination> parse(String s) {
        if (s == null) {
            return Optional.empty();
        }
        if (s.equals(TVL)) {
            return Optional.of(TVL_DESTINATION);
        }
        if (s.equals(HEALTH)) {
            return Optional.of(HEALTH_DESTINATION);
        }
        if (!s.startsWith(USER)) {
            return Optional.empty();
        }
        int slash = s.indexOf('/', USER.length());
        if (slash < 0) {
            return Optional.empty();
        }
        String pubkey = s.substring(USER.length(), slash);
        String tail = s.substring(slash);
        Kind kind = switch (tail) {
            case "/balance" -> Kind.USER_BALANCE;
            case "/tx" -> Kind.USER_TX;
            default -> null;
        };
        if (kind == null || !Access.isPubkey(pubkey)) {
            return Optional.empty();
        }
        return Optional.of(new Destination(kind, pubkey, s));
    }

    /** Where a row goes, or {@code null} when its event type routes nowhere. */
    static Destination forEvent(String eventType, String owner) {
        if (eventType == null) {
            return null;
        }
        if (eventType.equals("tvl_update")) {
            return TVL_DESTINATION;
        }
        if (owner == null) {
            return null;
        }
        if (changesBalance(eventType)) {
            return new Destination(Kind.USER_BALANCE, owner, USER + owner + "/balance");
        }
        return eventType.startsWith("transaction_") ? new Destination(Kind.USER_TX, owner, USER + owner + "/tx") : null;
    }

    /** True for the event types of {@code /user/{pubkey}/balance}: a vault's balance changed. */
    public static boolean changesBalance(String eventType) {
        return switch (eventType) {
            case "balance_update", "collateral_locked", "collateral_unlocked" -> true;
            default -> false;
        };
    }

    /** True when the principal may subscribe here. */
    public boolean readableBy(Principal p) {
        return switch (kind) {
            case SYSTEM_HEALTH -> Access.mayRead(p, null, true);
            case ADMIN_TVL -> Access.mayRead(p, null, false);
            case USER_BALANCE, USER_TX -> Access.mayRead(p, owner, false);
        };
    }

    /** True when a subscriber without x-resume-after first gets the latest row (x-snapshot). */
    boolean hasSnapshot() {
        return kind == Kind.USER_BALANCE || kind == Kind.ADMIN_TVL;
    }

    /** True when rows of this destination come from the change table (and can be replayed). */
    boolean fromTable() {
        return kind != Kind.SYSTEM_HEALTH;
    }
}
