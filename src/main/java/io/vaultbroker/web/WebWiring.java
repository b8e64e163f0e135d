package io.vaultbroker.web;

import java.util.List;

import io.helidon.webserver.websocket.WsRouting;

import io.vaultbroker.broker.Broker;

/**
 * Builds the WebSocket routes. Stateless apart from the shared connection counters.
 */
public final class WebWiring {
    private final Broker broker;
    private final ConnectionLimits limits;
    private final RemoteAddresses addresses;

    /**
     * @param maxConnections           connections in total
     * @param maxConnectionsPerAddress connections per remote address, authenticated or not
     * @param trustedProxies           proxy addresses or CIDR ranges whose X-Forwarded-For is believed
     */
    public WebWiring(Broker broker, int maxConnections, int maxConnectionsPerAddress, List<String> trustedProxies) {
        this(broker, maxConnections, maxConnectionsPerAddress, trustedProxies, false);
    }

    /**
     * @param proxyProtocol whether Helidon's PROXY protocol ({@code server.enable-proxy-protocol}) is on
     * @throws IllegalArgumentException when a trusted proxy is not an address or CIDR range
     */
    public WebWiring(Broker broker, int maxConnections, int maxConnectionsPerAddress, List<String> trustedProxies,
                     boolean proxyProtocol) {
        this.broker = broker;
        this.limits = new ConnectionLimits(maxConnections, maxConnectionsPerAddress);
        this.addresses = new RemoteAddresses(trustedProxies, proxyProtocol);
    }

    /** The WebSocket routing: {@code /stomp}, and the seed-compatible {@code /ws/{pubkey}}. */
    public WsRouting.Builder wsRouting() {
        return WsRouting.builder()
                .endpoint("/stomp", () -> new StompEndpoint(broker, limits, addresses))
                .endpoint(SeedEndpoint.PATH + "{pubkey}", () -> new SeedEndpoint(broker, limits, addresses));
    }

    /** WebSocket connections open now. */
    public int openConnections() {
        return limits.open();
    }
}
