package io.vaultbroker.web;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.ProxyProtocolData;
import io.helidon.webserver.http1.Http1ConnectionListener;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import io.vaultbroker.broker.KeyedCounts;

/**
 * Budgets for what a stranger can hold before CONNECT, enforced from TCP accept: connections in
 * total (when full, the oldest connection idle for a second without a request head makes room,
 * else the newcomer is refused), connections per remote address, a deadline for each complete
 * request head, and the memory of all unauthenticated connections together.
 *
 * <p>Why our own guard: Helidon 4.5's {@code max-tcp-connections} is a semaphore taken before
 * {@code accept}, so over it connections wait in the kernel's backlog rather than being refused,
 * and it knows no addresses (we still set it, a little above our total, so that accept can never
 * run out of descriptors: Helidon stops its listener for good when accept fails). Helidon has no
 * deadline for a request head (its idle timeout counts from the last request, and is long here
 * for WebSockets without heart-beats). So this selector is the listener's only one: it wraps
 * Helidon's own HTTP/1.1 selector, and with a single candidate Helidon asks it for the connection
 * right after accept, before reading a byte, on the connection's own thread.
 *
 * <p>Threading: {@link #connection} runs on each connection's thread; the listener callbacks on
 * that thread too; the sweep on the guard's one scheduler thread. Tickets are shared: volatile
 * fields and atomics, each release guarded to happen once.
 */
final class AcceptGuard {
    private static final System.Logger LOG = System.getLogger(AcceptGuard.class.getName());
    /** Heap an accepted connection costs before it sends anything (about 21 KB measured, rounded up). */
    static final int BASE_COST = 24 * 1024;
    /** Connections closed to make room that may still hold their descriptor (see {@link #admit}). */
    static final int EVICTING = 16;
    private static final long IDLE_MIN_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** What the guard is configured with. */
    record Settings(int maxTotal, int maxPerAddress, Duration headTimeout, long unauthenticatedMemory,
                    int maxHeadBytes, int maxFrameBytes, java.util.function.Predicate<String> trustedProxy) {
    }

    private final Settings settings;
    private final java.util.function.Consumer<String> limitHit;
    private final AtomicInteger open = new AtomicInteger();
    private final KeyedCounts perAddress;
    private final AtomicLong unauthenticatedBytes = new AtomicLong();
    private final AtomicLong seq = new AtomicLong();
    private final java.util.concurrent.atomic.LongAdder evicted = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder timedOut = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder fullEvicted = new java.util.concurrent.atomic.LongAdder();
    private final ConcurrentSkipListSet<Ticket> unauthenticated = new ConcurrentSkipListSet<>();
    // Connections waiting for a request head, oldest first: the ones to close when the total is full.
    private final ConcurrentSkipListSet<Ticket> awaitingHead = new ConcurrentSkipListSet<>();
    private final ConcurrentHashMap<ConnectionContext, Ticket> tickets = new ConcurrentHashMap<>();
    private volatile int maxHeadBytes;
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("vault-broker-accept-guard").daemon(true).factory());

    /** One accepted connection's place in the budgets. */
    final class Ticket implements Comparable<Ticket> {
        private final long order = seq.incrementAndGet();
        final ConnectionContext ctx;
        private final AtomicBoolean left = new AtomicBoolean();
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile String address;
        private volatile long charge;
        private volatile long headDeadline;
        // When it began waiting for its (next) request head; 0 while it is not waiting.
        private volatile long awaitingSince;
        private volatile boolean upgraded;
        private volatile boolean spoke;

        private Ticket(ConnectionContext ctx, String address) {
            this.ctx = ctx;
            this.address = address;
        }

        @Override
        public int compareTo(Ticket o) {
            return Long.compare(order, o.order);
        }

        /** The address this connection is counted under, or null while it is not (a trusted proxy's). */
        String address() {
            return address;
        }

        private void awaitHead() {
            long now = System.nanoTime();
            headDeadline = now + settings.headTimeout().toNanos();
            awaitingSince = now;
            awaitingHead.add(this);
        }

        private void headDone() {
            headDeadline = 0;
            awaitingSince = 0;
            awaitingHead.remove(this);
        }

        /** A whole WebSocket message arrived (a CONNECT being read, most likely). */
        void spoke() {
            spoke = true;
        }

        /** The session authenticated: it leaves the per-address count and the unauthenticated budget. */
        void authenticated() {
            leave();
        }

        private void leave() {
            if (!left.compareAndSet(false, true)) {
                return;
            }
            unauthenticated.remove(this);
            unauthenticatedBytes.addAndGet(-charge);
            String a = address;
            if (a != null) {
                perAddress.give(a);
            }
        }

        private void charge(long bytes) {
            synchronized (this) {
                if (left.get()) {
                    return;
                }
                unauthenticatedBytes.addAndGet(bytes - charge);
                charge = bytes;
            }
        }

        private void drop(String why) {
            limitHit.accept(why);
            try {
                ctx.serverSocket().close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "close failed: " + e);
            }
        }
    }

    /** @param limitHit counts a limit that refused or closed a connection */
    AcceptGuard(Settings settings, java.util.function.Consumer<String> limitHit) {
        this.settings = settings;
        this.limitHit = limitHit;
        this.perAddress = new KeyedCounts(settings.maxPerAddress());
        this.maxHeadBytes = settings.maxHeadBytes();
        sweeper.scheduleAtFixedRate(this::sweep, 500, 500, TimeUnit.MILLISECONDS);
    }

    /**
     * The listener's selector: Helidon's HTTP/1.1 selector (with the WebSocket upgrader), each
     * connection admitted first.
     */
    ServerConnectionSelector wrap(ServerConnectionSelector http1) {
        return new ServerConnectionSelector() {
            @Override
            public int bytesToIdentifyConnection() {
                return http1.bytesToIdentifyConnection();
            }

            @Override
            public Support supports(BufferData data) {
                return http1.supports(data);
            }

            @Override
            public Set<String> supportedApplicationProtocols() {
                return http1.supportedApplicationProtocols();
            }

            @Override
            public ServerConnection connection(ConnectionContext ctx) {
                Ticket t = admit(ctx);
                if (t == null) {
                    return REFUSED;
                }
                ServerConnection c;
                try {
                    c = http1.connection(ctx);
                } catch (RuntimeException | Error e) {
                    closed(t);
                    throw e;
                }
                return new Guarded(c, t);
            }
        };
    }

    /** Connections accepted and not yet closed. */
    int open() {
        return open.get();
    }

    /** Estimated heap of the unauthenticated connections now. */
    long unauthenticatedBytes() {
        return unauthenticatedBytes.get();
    }

    /** The ticket of an accepted connection, or null (not accepted through the guard). */
    Ticket ticket(Object socketContext) {
        return socketContext instanceof ConnectionContext cc ? tickets.get(cc) : null;
    }

    /**
     * The connection was upgraded to a WebSocket under {@code remote}: no request head is due any
     * more, and it is charged what a frame before CONNECT may buffer. Connections from a trusted
     * proxy are counted here, under the address it forwarded; false when that address is full.
     */
    boolean upgraded(Ticket t, String remote) {
        t.upgraded = true;
        t.headDone();
        if (t.address == null && !t.left.get()) {
            if (!perAddress.take(remote)) {
                limitHit.accept("connections-per-address");
                return false;
            }
            t.address = remote;
        }
        // Helidon buffers one whole frame, our decoder up to one STOMP frame.
        t.charge(BASE_COST + 2L * settings.maxFrameBytes());
        enforceMemory();
        return true;
    }

    /** What one request head may hold (Helidon's prologue and header limits); set before the server starts. */
    void maxHeadBytes(int bytes) {
        this.maxHeadBytes = bytes;
    }

    /** The receive and send listeners that watch request heads. */
    record HeadListeners(Http1ConnectionListener receive, Http1ConnectionListener send) {
    }

    HeadListeners headListeners(Http1ConnectionListener helidonsReceive, Http1ConnectionListener helidonsSend) {
        return new HeadListeners(receiveListener(helidonsReceive), sendListener(helidonsSend));
    }

    /** Stops the sweep. */
    void close() {
        sweeper.shutdownNow();
    }

    private Ticket admit(ConnectionContext ctx) {
        int n = open.incrementAndGet();
        if (n > settings.maxTotal()) {
            // Full: make room by closing the oldest connection that has waited at least a second
            // for a request head it never sent, so strangers holding idle sockets cannot keep
            // honest clients out; when there is none, the new one is refused. The closed one
            // keeps its place until Helidon has ended it, at most EVICTING of them at a time
            // (Helidon's own cap, WebWiring.REFUSE_MARGIN above the total, bounds descriptors).
            Ticket idle = n <= settings.maxTotal() + EVICTING ? oldestIdle() : null;
            if (idle == null) {
                open.decrementAndGet();
                limitHit.accept("tcp-connections");
                return null;
            }
            idle.drop("tcp-connections-idle-closed");
            fullEvicted.increment();
        }
        String address = peer(ctx);
        if (settings.trustedProxy().test(address)) {
            address = null;
        } else if (!perAddress.take(address)) {
            open.decrementAndGet();
            limitHit.accept("connections-per-address");
            return null;
        }
        Ticket t = new Ticket(ctx, address);
        tickets.put(ctx, t);
        t.awaitHead();
        unauthenticated.add(t);
        t.charge(BASE_COST + maxHeadBytes);
        enforceMemory();
        return t;
    }

    private void closed(Ticket t) {
        if (!t.closed.compareAndSet(false, true)) {
            return;
        }
        t.headDone();
        t.leave();
        tickets.remove(t.ctx);
        open.decrementAndGet();
    }

    // Over the budget the oldest unauthenticated connections go first: an honest client
    // authenticates within milliseconds of connecting, so the oldest are the ones that never will.
    // Those that have not sent one whole message go before those that have: a client whose
    // CONNECT is being checked on a busy server is not the one holding half a frame.
    private void enforceMemory() {
        while (unauthenticatedBytes.get() > settings.unauthenticatedMemory()) {
            Ticket oldest = null;
            int looked = 0;
            for (Ticket t : unauthenticated) {
                if (!t.spoke || ++looked > 1024) {
                    oldest = t;
                    break;
                }
            }
            if (oldest == null) {
                oldest = unauthenticated.pollFirst();
                if (oldest == null) {
                    return;
                }
            }
            oldest.leave();
            oldest.drop("unauthenticated-memory");
            evicted.increment();
        }
    }

    // Once per sweep at most: under attack a line per closed connection would flood the log.
    private void logEvictions() {
        long n = evicted.sumThenReset();
        if (n > 0) {
            LOG.log(System.Logger.Level.WARNING, "closed the " + n + " oldest unauthenticated connections: all of"
                    + " them together may hold more than limits.unauthenticated-memory (" + settings.unauthenticatedMemory()
                    + " bytes)");
        }
        long f = fullEvicted.sumThenReset();
        if (f > 0) {
            LOG.log(System.Logger.Level.WARNING, "all " + settings.maxTotal() + " TCP connections in use: closed the " + f
                    + " oldest that sent no request head, to make room");
        }
        long t = timedOut.sumThenReset();
        if (t > 0) {
            LOG.log(System.Logger.Level.INFO, "closed " + t + " connections that sent no complete request head within "
                    + settings.headTimeout().toSeconds() + " s");
        }
    }

    /**
     * The oldest connection (by accept) waiting at least {@link #IDLE_MIN_NANOS} for a request
     * head, taken out of the set; or null. Looks at a bounded number: a kept-alive connection
     * waiting for its next head is old by accept but young in waiting.
     */
    private Ticket oldestIdle() {
        long now = System.nanoTime();
        int looked = 0;
        for (Ticket t : awaitingHead) {
            long since = t.awaitingSince;
            if (since == 0 || t.closed.get()) {
                awaitingHead.remove(t);
                continue;
            }
            if (now - since >= IDLE_MIN_NANOS && awaitingHead.remove(t)) {
                t.awaitingSince = 0;
                t.headDeadline = 0;
                return t;
            }
            if (++looked >= 64) {
                return null;
            }
        }
        return null;
    }

    private void sweep() {
        try {
            long now = System.nanoTime();
            for (Ticket t : tickets.values()) {
                long d = t.headDeadline;
                if (d != 0 && !t.upgraded && now - d > 0) {
                    t.headDone();
                    t.drop("request-head-timeout");
                    timedOut.increment();
                }
            }
            logEvictions();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "accept guard sweep failed", e);
        }
    }

    private static String peer(ConnectionContext ctx) {
        // Behind a PROXY-protocol load balancer the client's address is known at accept.
        ProxyProtocolData proxy = ctx.proxyProtocolData().orElse(null);
        if (proxy != null && !proxy.sourceAddress().isEmpty()) {
            return proxy.sourceAddress();
        }
        SocketAddress a = ctx.remotePeer().address();
        return a instanceof InetSocketAddress isa ? isa.getAddress().getHostAddress() : String.valueOf(a);
    }

    /**
     * Watches request heads: the deadline ends when a head is complete, and starts again when a
     * response is sent (the next request on a kept-alive connection has the same deadline).
     * Helidon 4.5 combines several listeners into one that forwards nothing, so this one is the
     * only listener and forwards to Helidon's own.
     */
    private Http1ConnectionListener receiveListener(Http1ConnectionListener helidons) {
        return new Forwarding(helidons) {
            @Override
            public void headers(ConnectionContext ctx, Headers headers) {
                super.headers(ctx, headers);
                Ticket t = tickets.get(ctx);
                if (t != null) {
                    t.headDone();
                }
            }
        };
    }

    /** See {@link #receiveListener}: a response was sent, the next head is due within the deadline. */
    private Http1ConnectionListener sendListener(Http1ConnectionListener helidons) {
        return new Forwarding(helidons) {
            @Override
            public void status(ConnectionContext ctx, Status status) {
                super.status(ctx, status);
                Ticket t = tickets.get(ctx);
                if (t != null && !t.upgraded && status.code() != Status.SWITCHING_PROTOCOLS_101.code()) {
                    t.awaitHead();
                }
            }
        };
    }

    /** Passes every event on to Helidon's own listener; subclasses add what they watch. */
    private static class Forwarding implements Http1ConnectionListener {
        private final Http1ConnectionListener helidons;

        Forwarding(Http1ConnectionListener helidons) {
            this.helidons = helidons;
        }

        @Override
        public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
            helidons.prologue(ctx, prologue);
        }

        @Override
        public void headers(ConnectionContext ctx, Headers headers) {
            helidons.headers(ctx, headers);
        }

        @Override
        public void status(ConnectionContext ctx, Status status) {
            helidons.status(ctx, status);
        }

        @Override
        public void data(ConnectionContext ctx, BufferData data) {
            helidons.data(ctx, data);
        }

        @Override
        public void data(ConnectionContext ctx, byte[] data, int position, int length) {
            helidons.data(ctx, data, position, length);
        }
    }

    // Helidon closes the socket as soon as handle returns: refused at accept, closed at once.
    private static final ServerConnection REFUSED = new ServerConnection() {
        @Override
        public void handle(Limit limit) {
        }

        @Override
        public Duration idleTime() {
            return Duration.ZERO;
        }

        @Override
        public void close(boolean interrupt) {
        }
    };

    /** Helidon's connection, with its place in the budgets given back when it ends. */
    private final class Guarded implements ServerConnection {
        private final ServerConnection delegate;
        private final Ticket ticket;

        Guarded(ServerConnection delegate, Ticket ticket) {
            this.delegate = delegate;
            this.ticket = ticket;
        }

        @Override
        public void handle(Limit limit) throws InterruptedException {
            try {
                delegate.handle(limit);
            } finally {
                closed(ticket);
            }
        }

        @Override
        public Duration idleTime() {
            return delegate.idleTime();
        }

        @Override
        public void close(boolean interrupt) {
            delegate.close(interrupt);
        }
    }
}
