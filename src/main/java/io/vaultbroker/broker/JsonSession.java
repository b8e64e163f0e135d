package io.vaultbroker.broker;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import io.vaultbroker.auth.AuthException;
import io.vaultbroker.auth.Credentials;
import io.vaultbroker.auth.Principal;

/**
 * A session of the seed-compatible endpoint {@code /ws/{pubkey}} (DESIGN.md §2): no STOMP; a
 * welcome message, then every balance and tx event of that user as the seed's JSON envelope
 * plus its row {@code id}, and {@code health_update} messages, one JSON per WebSocket message.
 *
 * <p>Threading: {@link #start} and {@link #onData} run on the connection's thread; the ticker
 * and the router reach the session only through volatile fields and the thread-safe
 * {@link Session} base.
 */
public final class JsonSession extends Session {
    private static final System.Logger LOG = System.getLogger(JsonSession.class.getName());
    static final int CLOSE_POLICY = 1008;
    static final int CLOSE_INTERNAL = 1011;
    static final int CLOSE_RESTART = 1012;
    static final int CLOSE_TRY_AGAIN = 1013;

    private final AtomicLong received = new AtomicLong();
    private final AtomicBoolean pinging = new AtomicBoolean();
    private volatile boolean started;
    private volatile long lastPingNanos = System.nanoTime();

    JsonSession(Broker broker, Transport transport, String id) {
        // No coalescing: the seed's clients parse one JSON document per WebSocket message.
        super(broker, transport, id, false);
    }

    /**
     * Authenticates the token for {@code owner}, then sends the welcome message and subscribes
     * to the owner's balance and tx destinations (resuming after {@code resumeAfter} when given)
     * and to health. Any refusal closes the socket with 1008 and a short reason.
     *
     * @param owner       the {@code {pubkey}} of the path, already checked to be a pubkey
     * @param token       the {@code access_token} query parameter; may be null
     * @param resumeAfter the {@code resume_after} query parameter as sent; may be null
     * @param upgradeHost the upgrade's {@code Host} header
     */
    public void start(String owner, String token, String resumeAfter, String upgradeHost) {
        Principal p;
        try {
            if (token == null || token.isBlank()) {
                throw new AuthException("missing");
            }
            // login is the owner so that dev mode (auth.mode: none) works; a JWT ignores it.
            p = broker.authenticator().authenticate(new Credentials(owner, token, null, null, null, upgradeHost));
        } catch (AuthException e) {
            broker.stats().authFailure(e.credential());
            LOG.log(System.Logger.Level.INFO, "authentication failed: session " + id + " from "
                    + transport.remoteAddress() + " (" + e.category() + ", /ws)");
            end(null, CLOSE_POLICY, "authentication failed", false);
            return;
        }
        Destination balance = Destination.parse("/user/" + owner + "/balance").orElseThrow();
        Destination tx = Destination.parse("/user/" + owner + "/tx").orElseThrow();
        Destination health = Destination.parse(Destination.HEALTH).orElseThrow();
        if (!balance.readableBy(p)) {
            LOG.log(System.Logger.Level.INFO, "session " + id + " refused: subject " + p.subject()
                    + " may not read " + owner + " (/ws)");
            end(null, CLOSE_POLICY, "access denied", false);
            return;
        }
        ResumeAfter parsed = ResumeAfter.parse(resumeAfter);
        if (parsed.invalid()) {
            end(null, CLOSE_POLICY, "invalid resume_after", false);
            return;
        }
        Long resume = parsed.orNull();
        String refused = broker.admit(this, p);
        if (refused != null) {
            broker.stats().limitHit(refused.replace(' ', '-'));
            end(null, CLOSE_POLICY, refused, false);
            return;
        }
        connectedNanos = System.nanoTime();
        started = true;
        push(OutboundEvent.envelope("welcome", "{\"owner\":" + OutboundEvent.quote(owner) + ",\"server\":"
                + OutboundEvent.quote("vault-broker/" + broker.settings().version()) + "}", Instant.now()));
        LOG.log(System.Logger.Level.INFO, "session " + id + " connected: subject " + p.subject() + " ("
                + p.method() + ", /ws for " + owner + ") from " + transport.remoteAddress());
        // Balance and tx catch up together, so a resume arrives in id order across both and the
        // client may keep a single last id.
        broker.router().subscribe(List.of(subscription("balance", balance), subscription("tx", tx)), resume);
        broker.router().subscribe(subscription("health", health), null);
    }

    /** A message from the client: the seed's protocol has none, so it is counted and ignored. */
    public void onData() {
        received.incrementAndGet();
        broker.stats().framesIn.increment();
    }

    /** The WebSocket was closed or failed under us. */
    public void onClosed() {
        transportGone();
    }

    private Subscription subscription(String subId, Destination d) {
        Subscription s = new Subscription(this, subId, d, false);
        subscriptions.put(subId, s);
        return s;
    }

    @Override
    String render(Subscription s, OutboundEvent e, String extraHeaders) {
        // Rows carry their id for resume_after; notices (health, resume_gap) have none.
        return e.id >= 0 ? e.envelopeWithId() : e.envelope;
    }

    @Override
    void tick(long now, Instant wallClock) {
        if (isEnded() || !started) {
            return;
        }
        String expired = expiry(now, wallClock);
        if (expired != null) {
            end(null, CLOSE_POLICY, expired, false);
            return;
        }
        BrokerSettings cfg = broker.settings();
        // The seed's clients never write: a ping makes them answer with a pong, which keeps the
        // connection out of the server's idle timeout. Sent on a writer thread, since it blocks
        // like a send when the peer does not read, and the ticker serves every session.
        long interval = TimeUnit.MILLISECONDS.toNanos(cfg.heartbeatMs());
        if (interval > 0 && now - Math.max(outbox.lastWriteNanos(), lastPingNanos) > interval
                && !outbox.isFinishing() && pinging.compareAndSet(false, true)) {
            lastPingNanos = now;
            broker.writers().execute(() -> {
                try {
                    transport.ping();
                } catch (Exception e) {
                    LOG.log(System.Logger.Level.DEBUG, "ping failed: " + e);
                } finally {
                    pinging.set(false);
                }
            });
        }
    }

    @Override
    void slowConsumer() {
        if (isEnded()) {
            return;
        }
        broker.stats().slowConsumers.increment();
        LOG.log(System.Logger.Level.INFO, "session " + id + " is a slow consumer; closing (/ws)");
        end(null, CLOSE_TRY_AGAIN, "slow consumer", true);
    }

    @Override
    void shutdown(long retryAfterMs) {
        end(null, CLOSE_RESTART, "server shutting down", false);
    }

    @Override
    void catchUpFailed() {
        end(null, CLOSE_INTERNAL, "replay unavailable", false);
    }

    @Override
    long received() {
        return received.get();
    }

    @Override
    String protocol() {
        return "json";
    }
}
