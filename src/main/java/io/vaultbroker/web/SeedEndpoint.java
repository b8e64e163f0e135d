package io.vaultbroker.web;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;

import io.vaultbroker.auth.Access;
import io.vaultbroker.broker.Broker;
import io.vaultbroker.broker.JsonSession;

/**
 * The seed-compatible endpoint {@code /ws/{pubkey}?access_token=…[&resume_after=…]}: one
 * instance per connection. The query carries a token, so neither it nor the request line is
 * ever logged here. Threading: Helidon calls it on the connection's own thread, one callback at
 * a time; only {@code closed} is touched from elsewhere.
 */
final class SeedEndpoint implements WsListener {
    static final String PATH = "/ws/";

    private final Broker broker;
    private final ConnectionLimits limits;
    private final RemoteAddresses addresses;
    private final AtomicBoolean closed = new AtomicBoolean();
    private String owner;
    private String token;
    private String resumeAfter;
    private String host;
    private String forwardedFor;
    private String remote;
    private boolean counted;
    private JsonSession session;

    SeedEndpoint(Broker broker, ConnectionLimits limits, RemoteAddresses addresses) {
        this.broker = broker;
        this.limits = limits;
        this.addresses = addresses;
    }

    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) throws WsUpgradeException {
        if (limits.full()) {
            throw new WsUpgradeException("too many connections");
        }
        // The raw path: a percent-encoded pubkey is no pubkey (destinations match in one spelling only).
        String path = prologue.uriPath().rawPath();
        String candidate = path.startsWith(PATH) ? path.substring(PATH.length()) : "";
        if (!Access.isPubkey(candidate)) {
            throw new WsUpgradeException("the path must be /ws/<base58 pubkey>");
        }
        owner = candidate;
        token = prologue.query().first("access_token").orElse(null);
        resumeAfter = prologue.query().first("resume_after").orElse(null);
        host = headers.first(HeaderNames.HOST).orElse(null);
        forwardedFor = headers.first(HeaderNames.X_FORWARDED_FOR).orElse(null);
        // The seed's clients offer no subprotocol; none is chosen for any that is offered.
        return Optional.empty();
    }

    @Override
    public void onOpen(WsSession ws) {
        remote = addresses.resolve(ws.socketContext().remotePeer().address(), forwardedFor);
        if (!limits.open(remote)) {
            ws.close(1008, "too many connections");
            return;
        }
        counted = true;
        session = broker.openJson(new WsTransport(ws, remote, this::ended));
        String t = token;
        token = null;
        session.start(owner, t, resumeAfter, host);
    }

    @Override
    public void onMessage(WsSession ws, String text, boolean last) {
        if (session != null && last) {
            session.onData();
        }
    }

    @Override
    public void onMessage(WsSession ws, BufferData buffer, boolean last) {
        if (session != null && last) {
            session.onData();
        }
    }

    @Override
    public void onClose(WsSession ws, int status, String reason) {
        ended();
    }

    @Override
    public void onError(WsSession ws, Throwable t) {
        ended();
    }

    private void ended() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (session != null) {
            session.onClosed();
        }
        if (counted) {
            limits.close(remote);
        }
    }
}
