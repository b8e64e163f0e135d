package io.vaultbroker.web;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Set;

/**
 * Works out the address a connection is counted under: the socket's, or, when the socket is a
 * configured trusted proxy, the first untrusted hop of {@code X-Forwarded-For} read from the right.
 * Immutable, thread-safe.
 */
final class RemoteAddresses {
    private final Set<String> trustedProxies;

    RemoteAddresses(List<String> trustedProxies) {
        this.trustedProxies = Set.copyOf(trustedProxies);
    }

    String resolve(SocketAddress socket, String forwardedFor) {
        String peer = socket instanceof InetSocketAddress isa ? isa.getAddress().getHostAddress() : String.valueOf(socket);
        if (forwardedFor == null || !trustedProxies.contains(peer)) {
            return peer;
        }
        String[] hops = forwardedFor.split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = hops[i].trim();
            if (!hop.isEmpty() && !trustedProxies.contains(hop)) {
                return hop;
            }
        }
        return peer;
    }
}
