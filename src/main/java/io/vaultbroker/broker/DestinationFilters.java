package io.vaultbroker.broker;

import java.util.List;

import io.vaultbroker.feed.EventStore;

/**
 * The SQL twin of {@link Destination#forEvent}: which rows of the change table a destination
 * holds, for snapshots and replays. Keep the two in step. Stateless.
 */
final class DestinationFilters {
    private DestinationFilters() {
    }

    static EventStore.Filter of(Destination d) {
        return switch (d.kind()) {
            case USER_BALANCE -> new EventStore.Filter(
                    "owner = ? AND event_type IN ('balance_update', 'collateral_locked', 'collateral_unlocked')",
                    List.of(d.owner()));
            case USER_TX -> new EventStore.Filter("owner = ? AND event_type LIKE 'transaction\\_%'", List.of(d.owner()));
            case ADMIN_TVL -> new EventStore.Filter("event_type = 'tvl_update'", List.of());
            case SYSTEM_HEALTH -> throw new IllegalArgumentException("health is not in the change table");
        };
    }
}
