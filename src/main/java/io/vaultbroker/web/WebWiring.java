package io.vaultbroker.web;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import io.helidon.webserver.ProtocolConfigs;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionProvider;
import io.helidon.webserver.spi.ProtocolConfig;
import io.helidon.webserver.spi.ServerConnectionSelector;
import io.helidon.webserver.websocket.WsConfig;
import io.helidon.webserver.websocket.WsRouting;

import io.vaultbroker.broker.Broker;

/**
 * Builds the WebSocket routes and the server under the connection budgets (DESIGN.md §2).
 * Built on the starting thread; afterwards only the thread-safe counters and guard change.
 */
public final class WebWiring {
    private static final System.Logger LOG = System.getLogger(WebWiring.class.getName());
    /** Refused connections still take a descriptor between accept and close: Helidon's own cap leaves them this room. */
    static final int REFUSE_MARGIN = 32;

    /**
     * The connection budgets.
     *
     * @param tcpConnections        TCP connections in total; 0: what the open-files limit allows
     * @param openFilesReserve      descriptors kept free beyond those open at start (pool, feed, files)
     * @param connectionsPerAddress connections per remote address before CONNECT, counted from accept
     * @param wsConnections         WebSocket connections in total (never more than the TCP total)
     * @param requestHeadTimeout    time to send a complete HTTP request head
     * @param unauthenticatedMemory heap all unauthenticated connections together may cost
     * @param stompFrameBytes       the STOMP frame limit, which bounds one WebSocket frame
     * @param trustedProxies        proxy addresses or CIDR ranges whose X-Forwarded-For is believed
     * @param proxyProtocol         whether Helidon's PROXY protocol ({@code server.enable-proxy-protocol}) is on
     */
    public record Budgets(int tcpConnections, int openFilesReserve, int connectionsPerAddress, int wsConnections,
                          Duration requestHeadTimeout, long unauthenticatedMemory, int stompFrameBytes,
                          List<String> trustedProxies, boolean proxyProtocol) {
    }

    private final Broker broker;
    private final Budgets budgets;
    private final ConnectionLimits limits;
    private final RemoteAddresses addresses;
    private final AcceptGuard guard;
    private final int tcpTotal;

    /**
     * Reads the open-files limit and works out the TCP total.
     *
     * @throws IllegalStateException when the configured total is above what the limit allows (the message says how to raise it)
     */
    public WebWiring(Broker broker, Budgets budgets) {
        this.broker = broker;
        this.budgets = budgets;
        OpenFilesBudget files = OpenFilesBudget.measure(budgets.openFilesReserve());
        this.tcpTotal = files.total(budgets.tcpConnections());
        int ws = Math.min(budgets.wsConnections(), tcpTotal);
        LOG.log(System.Logger.Level.INFO, "connection budget: " + tcpTotal + " TCP connections"
                + (budgets.tcpConnections() > 0 ? " (configured)" : "")
                + " under an open-files limit of " + (files.limit() < 0 ? "unknown" : files.limit())
                + " (" + files.headroom() + " kept for the pool, the feed and files), " + ws + " WebSockets, "
                + budgets.connectionsPerAddress() + " per address before CONNECT");
        this.limits = new ConnectionLimits(ws);
        this.addresses = new RemoteAddresses(budgets.trustedProxies(), budgets.proxyProtocol());
        this.guard = new AcceptGuard(new AcceptGuard.Settings(tcpTotal, budgets.connectionsPerAddress(),
                budgets.requestHeadTimeout(), budgets.unauthenticatedMemory(), 0, budgets.stompFrameBytes(),
                addresses::trusts), broker::limitHit);
        broker.onAuthenticated(t -> {
            if (t instanceof WsTransport w) {
                w.authenticated();
            }
        });
    }

    /** The WebSocket routing: {@code /stomp}, and the seed-compatible {@code /ws/{pubkey}}. */
    public WsRouting.Builder wsRouting() {
        return WsRouting.builder()
                .endpoint("/stomp", () -> new StompEndpoint(broker, limits, addresses, guard))
                .endpoint(SeedEndpoint.PATH + "{pubkey}", () -> new SeedEndpoint(broker, limits, addresses, guard));
    }

    /**
     * Builds the server from its configured builder with the accept guard as the listener's only
     * connection selector (see {@link AcceptGuard} for why), and Helidon's own
     * {@code max-tcp-connections} just above the guard's total.
     *
     * @throws IllegalStateException when {@code server.protocols.websocket.max-frame-length} is above the STOMP frame limit
     */
    public WebServer build(WebServerConfig.Builder builder) {
        WebServerConfig cfg = builder.buildPrototype();
        List<ProtocolConfig> others = new ArrayList<>();
        Http1Config http1 = null;
        for (ProtocolConfig p : cfg.protocols()) {
            if (p instanceof Http1Config h) {
                http1 = h;
            } else {
                others.add(p);
            }
            // Helidon reads a whole frame into memory before any listener sees it, and has one
            // frame limit for all connections: before CONNECT that must be the STOMP frame limit,
            // and after it no bigger frame can carry a valid STOMP frame anyway.
            if (p instanceof WsConfig w && w.maxFrameLength() > budgets.stompFrameBytes()) {
                throw new IllegalStateException("server.protocols.websocket.max-frame-length is " + w.maxFrameLength()
                        + ", above stomp.max-frame-bytes (" + budgets.stompFrameBytes() + "): a stranger could make the"
                        + " server buffer that much per connection before CONNECT. Set SERVER_PROTOCOLS_WEBSOCKET_MAX_FRAME_LENGTH"
                        + " to at most " + budgets.stompFrameBytes());
            }
        }
        if (http1 == null) {
            http1 = Http1Config.create();
        }
        guard.maxHeadBytes(http1.maxPrologueLength() + http1.maxHeadersSize());
        // Helidon 4.5 combines several listeners into one that forwards nothing: ours are the only
        // ones and forward to what Helidon configured.
        AcceptGuard.HeadListeners heads = guard.headListeners(http1.compositeReceiveListener(), http1.compositeSendListener());
        Http1Config watched = Http1Config.builder().from(http1)
                .receiveListeners(List.of(heads.receive())).compositeReceiveListener(heads.receive())
                .sendListeners(List.of(heads.send())).compositeSendListener(heads.send())
                .build();
        List<ProtocolConfig> all = new ArrayList<>(others);
        all.add(watched);
        ServerConnectionSelector selector = new Http1ConnectionProvider().create(cfg.name(), watched, ProtocolConfigs.create(all));
        WebServerConfig guarded = WebServerConfig.builder().from(cfg)
                .protocols(others)
                .protocolsDiscoverServices(false)
                .connectionSelectors(List.of(guard.wrap(selector)))
                .maxTcpConnections(tcpTotal + REFUSE_MARGIN)
                .buildPrototype();
        return WebServer.create(guarded);
    }

    /** TCP connections in the budget. */
    public int tcpTotal() {
        return tcpTotal;
    }

    /** TCP connections open now (HTTP and WebSocket, authenticated or not). */
    public int openTcpConnections() {
        return guard.open();
    }

    /** WebSocket connections open now. */
    public int openConnections() {
        return limits.open();
    }

    /** Stops the guard's sweep. */
    public void close() {
        guard.close();
    }
}
