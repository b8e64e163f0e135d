package io.vaultbroker.web;

import java.util.concurrent.atomic.AtomicBoolean;

import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;

/**
 * What both WebSocket endpoints share: a connection is counted in the WebSocket total from open
 * to close (its place under its remote address was taken at accept, see {@link AcceptGuard}, and
 * is given back once its session authenticates), refused when a limit is reached, and its close
 * is reported exactly once —
 * by Helidon's callbacks, or by the transport when Helidon never calls them (a dropped socket).
 * Threading: Helidon calls it on the connection's own thread, one callback at a time; only
 * {@code closed} is touched from elsewhere.
 */
abstract class CountedEndpoint implements WsListener {
    private final ConnectionLimits limits;
    private final RemoteAddresses addresses;
    private final AcceptGuard guard;
    private final AtomicBoolean closed = new AtomicBoolean();
    private String forwardedFor;
    private String remote;
    private boolean counted;
    private AcceptGuard.Ticket ticket;
    /** The upgrade's {@code Host} header. */
    String host;

    CountedEndpoint(ConnectionLimits limits, RemoteAddresses addresses, AcceptGuard guard) {
        this.limits = limits;
        this.addresses = addresses;
        this.guard = guard;
    }

    /** Refuses the upgrade when the server is full, and keeps what the session needs later. */
    final void admitUpgrade(Headers headers) throws WsUpgradeException {
        if (limits.full()) {
            throw new WsUpgradeException("too many connections");
        }
        host = headers.first(HeaderNames.HOST).orElse(null);
        forwardedFor = addresses.forwardedFor(headers);
    }

    /** A whole message arrived; see {@link AcceptGuard.Ticket#spoke()}. */
    final void spoke() {
        if (ticket != null) {
            ticket.spoke();
        }
    }

    /** The connection is open and counted: start its session. */
    abstract void opened(WsTransport transport);

    /** The connection is gone: tell its session. */
    abstract void gone();

    @Override
    public final void onOpen(WsSession ws) {
        remote = addresses.resolve(ws.socketContext().remotePeer().address(), forwardedFor);
        ticket = guard.ticket(ws.socketContext());
        if (ticket != null && !guard.upgraded(ticket, remote)) {
            ws.close(1008, "too many connections");
            return;
        }
        if (!limits.tryOpen()) {
            ws.close(1008, "too many connections");
            return;
        }
        counted = true;
        opened(new WsTransport(ws, remote, this::ended, ticket == null ? () -> { } : ticket::authenticated));
    }

    @Override
    public final void onClose(WsSession ws, int status, String reason) {
        ended();
    }

    @Override
    public final void onError(WsSession ws, Throwable t) {
        ended();
    }

    private void ended() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        gone();
        if (counted) {
            limits.close();
        }
    }
}
