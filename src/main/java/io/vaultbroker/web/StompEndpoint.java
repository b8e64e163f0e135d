package io.vaultbroker.web;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.WritableHeaders;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;

import io.vaultbroker.broker.Broker;
import io.vaultbroker.broker.StompSession;

/**
 * The {@code /stomp} WebSocket endpoint: one instance per connection, from upgrade to close.
 * Threading: Helidon calls it on the connection's own thread, one callback at a time.
 */
final class StompEndpoint extends CountedEndpoint {
    static final HeaderName PROTOCOL = HeaderNames.create("Sec-WebSocket-Protocol");
    private static final String[] PROTOCOLS = {"v12.stomp", "v11.stomp", "v10.stomp"};

    private final Broker broker;
    private StompSession session;

    StompEndpoint(Broker broker, ConnectionLimits limits, RemoteAddresses addresses, AcceptGuard guard) {
        super(limits, addresses, guard);
        this.broker = broker;
    }

    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) throws WsUpgradeException {
        admitUpgrade(headers);
        String chosen = choose(headers.first(PROTOCOL).orElse(null));
        if (chosen == null) {
            return Optional.empty();
        }
        WritableHeaders<?> out = WritableHeaders.create();
        out.set(PROTOCOL, chosen);
        return Optional.of(out);
    }

    @Override
    void opened(WsTransport transport) {
        session = broker.openStomp(transport, host);
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
        if (session != null) {
            session.onData(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    public void onMessage(WsSession ws, BufferData buffer, boolean last) {
        spoke();
        if (session != null) {
            byte[] bytes = new byte[buffer.available()];
            buffer.read(bytes);
            session.onData(bytes);
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
