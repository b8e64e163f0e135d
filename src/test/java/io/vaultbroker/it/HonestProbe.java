package io.vaultbroker.it;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An honest user during an attack: one session that stays and receives a row inserted every
 * 250 ms, and a fresh CONNECT about every second that receives one row too. Records how long
 * each row took and which CONNECTs failed. Thread-safe: one virtual thread per loop, results in
 * concurrent lists.
 */
final class HonestProbe implements AutoCloseable {
    static final Duration ROW_WITHIN = Duration.ofSeconds(2);

    /** One try: when it started (ms since the probe began), whether it worked, how long the row took. */
    record Try(long atMs, boolean ok, long ms, String why) {
    }

    final List<Try> rows = new CopyOnWriteArrayList<>();
    final List<Try> connects = new CopyOnWriteArrayList<>();
    private final int port;
    private final ScratchDb db;
    private final long t0 = System.nanoTime();
    private final AtomicLong maxRowMs = new AtomicLong();
    private final AtomicLong retries = new AtomicLong();
    private volatile boolean running = true;
    private final Thread stayer;
    private final Thread connector;
    private final StompTestClient stay;
    private final String key = TestBroker.pubkey();

    HonestProbe(ChildBroker broker) throws Exception {
        this.port = broker.port;
        this.db = broker.db;
        this.stay = StompTestClient.connect(port, TestBroker.userToken(key));
        stay.subscribe("b", "/user/" + key + "/balance");
        stayer = Thread.ofVirtual().start(this::stayLoop);
        connector = Thread.ofVirtual().start(this::connectLoop);
    }

    /** Milliseconds since the probe began, the clock of {@link Try#atMs()}. */
    long nowMs() {
        return sinceMs();
    }

    private long sinceMs() {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    private void stayLoop() {
        while (running) {
            long at = sinceMs();
            try {
                long ms = oneRow(stay, key);
                rows.add(new Try(at, ms >= 0, ms, ms >= 0 ? "" : "row not received within " + ROW_WITHIN));
                maxRowMs.accumulateAndGet(ms, Math::max);
                Thread.sleep(250);
            } catch (Throwable e) {
                rows.add(new Try(at, false, -1, e.toString()));
                return;
            }
        }
    }

    // A fresh CONNECT about every second. A real client reconnects when its connection is cut
    // before CONNECTED (the memory budget closes the oldest unauthenticated connections, and an
    // honest one may be among them at the moment a flood starts): one immediate retry is allowed,
    // and counted; a CONNECT fails when the retry fails too.
    private void connectLoop() {
        while (running) {
            long at = sinceMs();
            Throwable failure = null;
            for (int attempt = 0; attempt < 2; attempt++) {
                String k = TestBroker.pubkey();
                try (StompTestClient c = StompTestClient.connect(port, TestBroker.userToken(k))) {
                    c.subscribe("b", "/user/" + k + "/balance");
                    long ms = oneRow(c, k);
                    connects.add(new Try(at, ms >= 0, ms, ms >= 0 ? "" : "row not received within " + ROW_WITHIN));
                    failure = null;
                    break;
                } catch (Throwable e) {
                    failure = e;
                    if (attempt == 0) {
                        retries.incrementAndGet();
                    }
                }
            }
            if (failure != null) {
                connects.add(new Try(at, false, -1, String.valueOf(failure)));
            }
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Inserts a row for the key; ms until the session got it, -1 when not within {@link #ROW_WITHIN}. */
    private long oneRow(StompTestClient c, String k) throws Exception {
        long start = System.nanoTime();
        String id = Long.toString(db.insert("balance_update", k, "{\"honest\":true}"));
        List<StompTestClient.Received> got = c.collectUntil(l -> !l.isEmpty() && id.equals(l.getLast().header("message-id")),
                ROW_WITHIN);
        boolean ok = !got.isEmpty() && id.equals(got.getLast().header("message-id"));
        return ok ? TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) : -1;
    }

    /** The staying session's rows that failed or took longer than {@link #ROW_WITHIN}. */
    List<Try> lateRows() {
        return rows.stream().filter(t -> !t.ok() || t.ms() > ROW_WITHIN.toMillis()).toList();
    }

    List<Try> failedConnects() {
        return connects.stream().filter(t -> !t.ok()).toList();
    }

    /** A fresh CONNECT that receives its row, now. */
    boolean connectsNow() {
        String k = TestBroker.pubkey();
        try (StompTestClient c = StompTestClient.connect(port, TestBroker.userToken(k))) {
            c.subscribe("b", "/user/" + k + "/balance");
            return oneRow(c, k) >= 0;
        } catch (Throwable e) {
            return false;
        }
    }

    String summary() {
        return rows.size() + " rows to the staying session (slowest " + maxRowMs.get() + " ms, " + lateRows().size()
                + " late), " + connects.size() + " fresh CONNECTs (" + failedConnects().size() + " failed, "
                + retries.get() + " needed a reconnect)";
    }

    @Override
    public void close() throws Exception {
        running = false;
        stayer.join(5000);
        connector.join(15000);
        stay.close();
    }
}
