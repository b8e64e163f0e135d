package io.vaultbroker.web;

import java.util.Optional;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;

import io.vaultbroker.auth.Access;
import io.vaultbroker.broker.Broker;
import io.vaultbroker.broker.JsonSession;

/**
 * The seed-compatible endpoint {@code /ws/{pubkey}?access_token=…[&resume_after=…]}: one
 * instance per connection. The query carries a token, so neither it nor the request line is
 * ever logged here. Threading: Helidon calls it on the connection's own thread, one callback at
 * a time.
 */
final class SeedEndpoint extends CountedEndpoint {
    static final String PATH = "/ws/";

    private final Broker broker;
    private String owner;
    private String token;
    private String resumeAfter;
    private JsonSession session;

    SeedEndpoint(Broker broker, ConnectionLimits limits, RemoteAddresses addresses, AcceptGuard guard) {
        super(limits, addresses, guard);
        this.broker = broker;
    }

    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) throws WsUpgradeException {
        admitUpgrade(headers);
        // The raw path: a percent-encoded pubkey is no pubkey (destinations match in one spelling only).
        String path = prologue.uriPath().rawPath();
        String candidate = path.startsWith(PATH) ? path.substring(PATH.length()) : "";
        if (!Access.isPubkey(candidate)) {
            throw new WsUpgradeException("the path must be /ws/<base58 pubkey>");
        }
        owner = candidate;
        token = prologue.query().first("access_token").orElse(null);
        resumeAfter = prologue.query().first("resume_after").orElse(null);
        // The seed's clients offer no subprotocol; none is chosen for any that is offered.
        return Optional.empty();
    }

    @Override
    void opened(WsTransport transport) {
        session = broker.openJson(transport);
        String t = token;
        token = null;
        session.start(owner, t, resumeAfter, host);
    }

    @Override
    void gone() {
        if (session != null) {
            session.onClosed();
        }
    }

    @Override
    public void onMessage(WsSession ws, String text, boolean last) {
        spoke();
        if (session != null && last) {
            session.onData();
        }
    }

    @Override
    public void onMessage(WsSession ws, BufferData buffer, boolean last) {
        spoke();
        if (session != null && last) {
            session.onData();
        }
    }
}
