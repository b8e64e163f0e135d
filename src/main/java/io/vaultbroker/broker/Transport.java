package io.vaultbroker.broker;

/**
 * The connection under a session: one WebSocket. Implemented by the web layer.
 * Threading: {@link #send} is called by one drainer at a time; {@link #close} and {@link #abort}
 * may be called from any thread.
 */
public interface Transport {
    /** Writes one whole text message; blocks while the peer does not read. */
    void send(String text) throws Exception;

    /** Sends a WebSocket close frame with this code and reason. */
    void close(int code, String reason);

    /** Drops the connection at once, without waiting for anything to be written. */
    void abort();

    /**
     * False once the connection is gone. Helidon 4.5 does not call the listener when a peer drops
     * the TCP connection without a close frame, so the broker's ticker asks.
     */
    default boolean isOpen() {
        return true;
    }

    /**
     * Sends a WebSocket ping, so that a client that never writes answers with a pong and keeps
     * the connection out of the server's idle timeout. Blocks like {@link #send}.
     */
    default void ping() throws Exception {
    }

    /** The remote address the session is counted under. */
    String remoteAddress();
}
