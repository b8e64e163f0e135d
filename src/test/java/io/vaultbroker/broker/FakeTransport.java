package io.vaultbroker.broker;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import io.vaultbroker.stomp.StompDecoder;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompLimits;

/**
 * A transport that records what is written; it can be told to block writes, as a peer that
 * stops reading does. Thread-safe.
 */
final class FakeTransport implements Transport {
    final List<String> sent = new CopyOnWriteArrayList<>();
    final CountDownLatch closed = new CountDownLatch(1);
    final CountDownLatch aborted = new CountDownLatch(1);
    volatile int closeCode = -1;
    private final Semaphore gate = new Semaphore(Integer.MAX_VALUE);

    @Override
    public void send(String text) throws InterruptedException {
        gate.acquire();
        gate.release();
        sent.add(text);
    }

    @Override
    public void close(int code, String reason) {
        closeCode = code;
        closed.countDown();
    }

    @Override
    public void abort() {
        aborted.countDown();
    }

    @Override
    public String remoteAddress() {
        return "127.0.0.9";
    }

    /** Writes block until {@link #unblock()}. */
    void block() throws InterruptedException {
        gate.acquire(Integer.MAX_VALUE);
    }

    void unblock() {
        gate.release(Integer.MAX_VALUE);
    }

    /** Every STOMP frame written so far, decoded. */
    List<StompFrame> frames() {
        StompDecoder d = new StompDecoder(new StompLimits(1 << 24, 64, 1 << 16));
        List<StompFrame> out = new java.util.ArrayList<>();
        for (String s : sent) {
            for (StompDecoder.Decoded x : d.feed(s.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
                if (x instanceof StompDecoder.Frame f) {
                    out.add(f.frame());
                }
            }
        }
        return out;
    }

    boolean awaitClosed() throws InterruptedException {
        return closed.await(10, TimeUnit.SECONDS);
    }
}
