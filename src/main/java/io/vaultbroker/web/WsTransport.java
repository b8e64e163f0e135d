package io.vaultbroker.web;

import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.websocket.WsSession;

import io.vaultbroker.broker.Transport;

/**
 * A session's transport over a Helidon WebSocket. Thread-safe: Helidon serialises sends with a
 * lock, and every message is sent whole so frames from different threads never interleave.
 */
final class WsTransport implements Transport {
    private static final System.Logger LOG = System.getLogger(WsTransport.class.getName());
    private final WsSession ws;
    private final String remote;
    private final Runnable gone;
    private final Runnable authenticated;

    /**
     * @param gone          releases the connection's place; run when {@link #isOpen()} finds the socket closed
     * @param authenticated takes the connection out of the budgets of unauthenticated ones
     */
    WsTransport(WsSession ws, String remote, Runnable gone, Runnable authenticated) {
        this.ws = ws;
        this.remote = remote;
        this.gone = gone;
        this.authenticated = authenticated;
    }

    /** The session authenticated (CONNECTED, or the seed endpoint's token accepted). */
    void authenticated() {
        authenticated.run();
    }

    @Override
    public boolean isOpen() {
        if (ws.socketContext() instanceof ConnectionContext cc && !cc.serverSocket().isConnected()) {
            gone.run();
            return false;
        }
        return true;
    }

    @Override
    public void send(String text) {
        ws.send(text, true);
    }

    @Override
    public void ping() {
        ws.ping(io.helidon.common.buffers.BufferData.empty());
    }

    @Override
    public void close(int code, String reason) {
        try {
            ws.close(code, reason);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "close failed: " + e);
            abort();
        }
    }

    @Override
    public void abort() {
        // A blocked writer holds the send lock, so a close frame cannot get out: drop the socket.
        try {
            if (ws.socketContext() instanceof ConnectionContext cc) {
                cc.serverSocket().close();
            } else if (ws instanceof ServerConnection sc) {
                sc.close(true);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "socket close failed: " + e);
        } finally {
            // Helidon does not call the listener for a socket closed under it: release the place here.
            gone.run();
        }
    }

    @Override
    public String remoteAddress() {
        return remote;
    }
}
