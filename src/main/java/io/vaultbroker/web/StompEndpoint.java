package io.vaultbroker.web;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.WritableHeaders;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;

import io.vaultbroker.broker.Broker;
import io.vaultbroker.broker.StompSession;

/**
 * The {@code /stomp} WebSocket endpoint: one instance per connection, from upgrade to close.
 * Threading: Helidon calls it on the connection's own thread, one callback at a time; only
 * {@code closed} is touched from elsewhere.
 */
final class StompEndpoint implements WsListener {
    static final HeaderName PROTOCOL = HeaderNames.create("Sec-WebSocket-Protocol");
    private static final String[] PROTOCOLS = {"v12.stomp", "v11.stomp", "v10.stomp"};

    private final Broker broker;
    private final ConnectionLimits limits;
    private final RemoteAddresses addresses;
    private final AtomicBoolean closed = new AtomicBoolean();
    private String host;
    private String forwardedFor;
    private String remote;
    private boolean counted;
    private StompSession session;

    StompEndpoint(Broker broker, ConnectionLimits limits, RemoteAddresses addresses) {
        this.broker = broker;
        this.limits = limits;
        this.addresses = addresses;
    }

    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) throws WsUpgradeException {
        if (limits.full()) {
            throw new WsUpgradeException("too many connections");
        }
        host = headers.first(HeaderNames.HOST).orElse(null);
        forwardedFor = headers.first(HeaderNames.X_FORWARDED_FOR).orElse(null);
        String chosen = choose(headers.first(PROTOCOL).orElse(null));
        if (chosen == null) {
            return Optional.empty();
        }
        WritableHeaders<?> out = WritableHeaders.create();
        out.set(PROTOCOL, chosen);
        return Optional.of(out);
    }

    @Override
    public void onOpen(WsSession ws) {
        remote = addresses.resolve(ws.socketContext().remotePeer().address(), forwardedFor);
        if (!limits.open(remote)) {
            ws.close(1008, "too many connections");
            return;
        }
        counted = true;
        session = broker.openStomp(new WsTransport(ws, remote, this::ended), host);
    }

    @Override
    public void onMessage(WsSession ws, String text, boolean last) {
        if (session != null) {
            session.onData(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    public void onMessage(WsSession ws, BufferData buffer, boolean last) {
        if (session != null) {
            byte[] bytes = new byte[buffer.available()];
            buffer.read(bytes);
            session.onData(bytes);
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

    /** The highest STOMP subprotocol the client offered, or null when it offered none of ours. */
    static String choose(String offered) {
        if (offered == null) {
            return null;
        }
        for (String p : PROTOCOLS) {
            for (String o : offered.split(",")) {
                if (o.trim().equals(p)) {
                    return p;
                }
            }
        }
        return null;
    }
}
