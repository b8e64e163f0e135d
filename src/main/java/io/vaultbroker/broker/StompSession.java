package io.vaultbroker.broker;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.vaultbroker.auth.AuthException;
import io.vaultbroker.auth.Credentials;
import io.vaultbroker.auth.Principal;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompDecoder;
import io.vaultbroker.stomp.StompEncoder;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;

/**
 * One STOMP 1.2 session over one WebSocket: CONNECT first, then SUBSCRIBE, UNSUBSCRIBE, ACK/NACK,
 * DISCONNECT; SEND is refused since events come only from the database.
 *
 * <p>Threading: {@link #onData} runs on the connection's thread, one message at a time, and owns
 * the decoder and the protocol state; the ticker and the router reach the session only through
 * the volatile fields and the thread-safe {@link Session} base.
 */
public final class StompSession extends Session {
    private static final System.Logger LOG = System.getLogger(StompSession.class.getName());
    private static final int CLOSE_NORMAL = 1000;
    private static final int CLOSE_POLICY = 1008;
    private static final int CLOSE_RESTART = 1012;

    private final StompDecoder decoder;
    private final String upgradeHost;
    private volatile boolean connected;
    private volatile long lastInboundNanos = System.nanoTime();
    private volatile long clientBeatMs;
    private volatile long serverBeatMs;
    private volatile long frames;
    // Reader-thread only, like the decoder.
    private final TokenBucket frameRate;
    private final TokenBucket catchUpRate;
    private final TokenBucket byteRate;

    StompSession(Broker broker, Transport transport, String id, String upgradeHost) {
        super(broker, transport, id, true);
        this.decoder = new StompDecoder(broker.settings().stompLimits());
        this.upgradeHost = upgradeHost;
        SessionBudgets b = broker.budgets();
        this.frameRate = new TokenBucket(b.frameRate(), b.frameBurst(), openedNanos);
        // Bytes too: within the frame burst, frames of 4 KiB from a hundred sessions are still
        // hundreds of MiB to read and parse, paid by every other session.
        this.byteRate = new TokenBucket(b.byteRate(), Math.max(b.byteBurst(), broker.settings().stompLimits().maxFrameBytes()),
                openedNanos);
        // The burst lets a page open every subscription it may hold at once; the rate stops a loop.
        this.catchUpRate = new TokenBucket(b.catchUpRate(),
                Math.max(b.catchUpRate(), broker.settings().maxSubscriptionsPerSession()), openedNanos);
    }

    /** Feeds bytes received on the WebSocket (a whole message or a fragment of one). */
    public void onData(byte[] data) {
        lastInboundNanos = System.nanoTime();
        if (isEnded()) {
            return;
        }
        if (!byteRate.take(lastInboundNanos, data.length)) {
            broker.stats().limitHit("client-byte-rate");
            flooded("at most " + broker.budgets().byteRate() + " bytes/s, bursts of " + broker.budgets().byteBurst());
            return;
        }
        for (StompDecoder.Decoded d : decoder.feed(data)) {
            if (isEnded()) {
                return;
            }
            switch (d) {
                case StompDecoder.HeartBeat hb -> {
                }
                case StompDecoder.Failure f -> {
                    broker.stats().limitHit(limitName(f.reason()));
                    error(f.reason(), null, null);
                }
                case StompDecoder.Frame f -> {
                    frames++;
                    broker.stats().framesIn.increment();
                    if (!frameRate.take(lastInboundNanos)) {
                        broker.stats().limitHit("client-frame-rate");
                        flooded("at most " + broker.budgets().frameRate() + " frames/s, bursts of "
                                + broker.budgets().frameBurst());
                        return;
                    }
                    handle(f.frame());
                }
            }
        }
    }

    /** The WebSocket was closed or failed under us. */
    public void onClosed() {
        transportGone();
    }

    private void handle(StompFrame f) {
        String receipt = f.command() == StompCommand.CONNECT || f.command() == StompCommand.STOMP
                ? null : f.header("receipt");
        if (!connected) {
            if (f.command() == StompCommand.CONNECT || f.command() == StompCommand.STOMP) {
                connect(f);
            } else {
                error("expected CONNECT", "the first frame must be CONNECT or STOMP", receipt);
            }
            return;
        }
        switch (f.command()) {
            case SUBSCRIBE -> subscribe(f, receipt);
            case UNSUBSCRIBE -> unsubscribe(f, receipt);
            case ACK, NACK -> {
                if (f.header("id") == null) {
                    error("missing id header", f.command() + " needs an id header", receipt);
                    return;
                }
                receipt(receipt);
            }
            case BEGIN, COMMIT, ABORT -> {
                if (f.header("transaction") == null) {
                    error("missing transaction header", null, receipt);
                    return;
                }
                receipt(receipt);
            }
            case DISCONNECT -> end(receipt == null ? null : receiptFrame(receipt), CLOSE_NORMAL, "disconnect", false);
            case SEND -> error("destinations are read-only", "events come only from the database", receipt);
            case CONNECT, STOMP -> error("already connected", null, receipt);
            default -> error("unexpected frame", f.command() + " is a server frame", receipt);
        }
    }

    private void connect(StompFrame f) {
        String version = negotiate(f.header("accept-version"));
        if (version == null) {
            sendAndEnd(StompFrame.of(StompCommand.ERROR, StompHeaders.of("message", "unsupported STOMP version",
                    "version", "1.0,1.1,1.2", "content-type", "text/plain"), "supported versions: 1.0,1.1,1.2"));
            return;
        }
        Principal p;
        try {
            p = broker.authenticator().authenticate(new Credentials(f.header("login"), f.header("passcode"),
                    f.header("Authorization") != null ? f.header("Authorization") : f.header("authorization"),
                    f.header("x-signed-at"), f.header("host"), upgradeHost));
        } catch (AuthException e) {
            broker.stats().authFailure(e.credential());
            LOG.log(System.Logger.Level.INFO, "authentication failed: session " + id + " from "
                    + transport.remoteAddress() + " (" + e.category() + ")");
            error("authentication failed", null, null);
            return;
        }
        String refused = broker.admit(this, p);
        if (refused != null) {
            broker.stats().limitHit(refused.replace(' ', '-'));
            error(refused, null, null);
            return;
        }
        long[] beat = parseHeartBeat(f.header("heart-beat"));
        if (beat == null) {
            error("invalid heart-beat header", "heart-beat must be two non-negative integers: cx,cy", null);
            return;
        }
        int offer = broker.settings().heartbeatMs();
        // cx: what the client can send; cy: what it wants to receive (STOMP 1.2 heart-beating).
        clientBeatMs = beat[0] == 0 ? 0 : Math.max(beat[0], offer);
        serverBeatMs = beat[1] == 0 ? 0 : Math.max(beat[1], offer);
        principal = p;
        connectedNanos = System.nanoTime();
        connected = true;
        send(StompFrame.of(StompCommand.CONNECTED, StompHeaders.of(
                "version", version,
                "heart-beat", offer + "," + offer,
                "server", "vault-broker/" + broker.settings().version(),
                "session", id,
                "user-name", p.subject())));
        LOG.log(System.Logger.Level.INFO, "session " + id + " connected: subject " + p.subject() + " ("
                + p.method() + ") from " + transport.remoteAddress());
    }

    private void subscribe(StompFrame f, String receipt) {
        String subId = f.header("id");
        String dest = f.header("destination");
        String ack = f.header("ack") == null ? "auto" : f.header("ack");
        if (subId == null || subId.isEmpty()) {
            error("missing id header", "SUBSCRIBE needs an id header", receipt);
            return;
        }
        if (dest == null) {
            error("missing destination header", "SUBSCRIBE needs a destination header", receipt);
            return;
        }
        if (!ack.equals("auto") && !ack.equals("client") && !ack.equals("client-individual")) {
            error("invalid ack mode", "ack must be auto, client or client-individual", receipt);
            return;
        }
        if (subscriptions.containsKey(subId)) {
            error("duplicate subscription id", "subscription id " + subId + " is in use", receipt);
            return;
        }
        if (subscriptions.size() >= broker.settings().maxSubscriptionsPerSession()) {
            broker.stats().limitHit("subscriptions-per-session");
            error("too many subscriptions", "at most " + broker.settings().maxSubscriptionsPerSession()
                    + " per session", receipt);
            return;
        }
        var parsed = Destination.parse(dest);
        if (parsed.isEmpty()) {
            error("unknown destination", "no destination " + dest, receipt);
            return;
        }
        Destination d = parsed.get();
        if (!d.readableBy(principal)) {
            error("access denied", "not allowed to subscribe to " + dest, receipt);
            return;
        }
        ResumeAfter resume = ResumeAfter.parse(f.header("x-resume-after"));
        if (resume.invalid()) {
            error("invalid x-resume-after", "x-resume-after must be a message-id (a decimal row id)", receipt);
            return;
        }
        Long resumeAfter = resume.orNull();
        // Counted here, not in the router: a snapshot or replay is a database query, so a client
        // that SUBSCRIBEs and UNSUBSCRIBEs in a loop must not queue one per frame.
        if (d.fromTable() && (resumeAfter != null || d.hasSnapshot()) && !catchUpRate.take(System.nanoTime())) {
            broker.stats().limitHit("catch-up-rate");
            error("too many catch-ups", "at most " + broker.budgets().catchUpRate() + " SUBSCRIBEs with a snapshot"
                    + " or replay per second", receipt);
            return;
        }
        Subscription s = new Subscription(this, subId, d, !ack.equals("auto"));
        subscriptions.put(subId, s);
        // The receipt goes first: catch-up messages follow it, live ones after those.
        receipt(receipt);
        broker.router().subscribe(s, resumeAfter);
    }

    private void unsubscribe(StompFrame f, String receipt) {
        String subId = f.header("id");
        if (subId == null) {
            error("missing id header", "UNSUBSCRIBE needs an id header", receipt);
            return;
        }
        Subscription s = subscriptions.remove(subId);
        if (s == null) {
            error("unknown subscription", "no subscription with id " + subId, receipt);
            return;
        }
        broker.router().unsubscribe(s);
        receipt(receipt);
    }

    @Override
    String render(Subscription s, OutboundEvent e, String extraHeaders) {
        return e.frame(s.subscriptionLine, s.clientAck, extraHeaders);
    }

    @Override
    void tick(long now, Instant wallClock) {
        if (isEnded()) {
            return;
        }
        BrokerSettings cfg = broker.settings();
        if (!connected) {
            if (now - openedNanos > cfg.connectTimeout().toNanos()) {
                broker.stats().limitHit("connect-timeout");
                error("connect timeout", "no CONNECT within " + cfg.connectTimeout().toSeconds() + " s", null);
            }
            return;
        }
        long silent = now - lastInboundNanos;
        if (clientBeatMs > 0 && silent > TimeUnit.MILLISECONDS.toNanos(2 * clientBeatMs) + cfg.heartbeatGrace().toNanos()) {
            error("heart-beat timeout", "nothing received for " + TimeUnit.NANOSECONDS.toSeconds(silent) + " s", null);
            return;
        }
        String expired = expiry(now, wallClock);
        if (expired != null) {
            error(expired, expired.startsWith("token") ? "connect again with a fresh token"
                    : "sessions last at most " + cfg.sessionLifetime(), null);
            return;
        }
        // The ticker runs once a second, so beat a little early rather than late.
        if (serverBeatMs > 0 && now - outbox.lastWriteNanos() > TimeUnit.MILLISECONDS.toNanos(serverBeatMs - 1000)) {
            outbox.offer(StompEncoder.HEARTBEAT);
        }
    }

    @Override
    void slowConsumer() {
        if (isEnded()) {
            return;
        }
        broker.stats().slowConsumers.increment();
        LOG.log(System.Logger.Level.INFO, "session " + id + " is a slow consumer; closing");
        end(errorFrame("slow consumer", "reconnect and resume with x-resume-after", null), CLOSE_POLICY,
                "slow consumer", true);
    }

    @Override
    void shutdown(long retryAfterMs) {
        end(StompEncoder.encode(StompFrame.of(StompCommand.ERROR, StompHeaders.of("message", "server shutting down",
                "x-retry-after-ms", Long.toString(retryAfterMs), "content-type", "text/plain"),
                "reconnect after the hinted delay")), CLOSE_RESTART, "server shutting down", false);
    }

    @Override
    void catchUpFailed() {
        error("replay unavailable", "the database could not be read; reconnect and resume with x-resume-after", null);
    }

    @Override
    long received() {
        return frames;
    }

    @Override
    String protocol() {
        return "stomp";
    }

    // A client that floods gets its ERROR before anything still queued for it (it would not read
    // that either), and its socket goes soon: the server reads what it sends until then.
    private void flooded(String detail) {
        end(errorFrame("too many frames", detail, null), CLOSE_POLICY, "too many frames", true);
    }

    private void error(String message, String detail, String receipt) {
        end(errorFrame(message, detail, receipt), CLOSE_POLICY, message, false);
    }

    private static String errorFrame(String message, String detail, String receipt) {
        StompHeaders.Builder h = StompHeaders.builder().add("message", message);
        if (receipt != null) {
            h.add("receipt-id", receipt);
        }
        h.add("content-type", "text/plain");
        return StompEncoder.encode(StompFrame.of(StompCommand.ERROR, h.build(), detail == null ? message : detail));
    }

    private void sendAndEnd(StompFrame f) {
        end(StompEncoder.encode(f), CLOSE_POLICY, f.header("message"), false);
    }

    private void send(StompFrame f) {
        push(StompEncoder.encode(f));
    }

    private void receipt(String receipt) {
        if (receipt != null) {
            push(receiptFrame(receipt));
        }
    }

    private static String receiptFrame(String receipt) {
        return StompEncoder.encode(StompFrame.of(StompCommand.RECEIPT, StompHeaders.of("receipt-id", receipt)));
    }

    static String negotiate(String acceptVersion) {
        if (acceptVersion == null) {
            return "1.0";
        }
        String best = null;
        for (String v : acceptVersion.split(",")) {
            String t = v.trim();
            if ((t.equals("1.0") || t.equals("1.1") || t.equals("1.2")) && (best == null || t.compareTo(best) > 0)) {
                best = t;
            }
        }
        return best;
    }

    /** The client's cx,cy; 0,0 when absent; null when malformed. */
    static long[] parseHeartBeat(String header) {
        if (header == null) {
            return new long[] {0, 0};
        }
        String[] parts = header.split(",", -1);
        if (parts.length != 2) {
            return null;
        }
        try {
            long cx = Long.parseLong(parts[0].trim());
            long cy = Long.parseLong(parts[1].trim());
            return cx < 0 || cy < 0 ? null : new long[] {cx, cy};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String limitName(String reason) {
        return reason.replace(' ', '-');
    }
}
