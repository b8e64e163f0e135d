package io.vaultbroker.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.vaultbroker.stomp.StompCommand;

/** Small helpers over received frames for the resilience tests. */
final class Messages {
    private Messages() {
    }

    /** The row ids of MESSAGE frames (notices, whose ids start with a letter, left out). */
    static List<Long> rowIds(List<StompTestClient.Received> frames) {
        List<Long> out = new ArrayList<>();
        for (StompTestClient.Received r : frames) {
            String id = r.header("message-id");
            if (r.command() == StompCommand.MESSAGE && id != null && !id.isEmpty() && Character.isDigit(id.charAt(0))) {
                out.add(Long.parseLong(id));
            }
        }
        return out;
    }

    /** Collects frames until the row ids received include {@code last} (or the deadline passes). */
    static List<StompTestClient.Received> until(StompTestClient c, long last, Duration timeout) throws InterruptedException {
        return c.collectUntil(fs -> !fs.isEmpty() && lastRowId(fs) >= last, timeout);
    }

    private static long lastRowId(List<StompTestClient.Received> fs) {
        for (int i = fs.size() - 1; i >= 0; i--) {
            List<Long> ids = rowIds(List.of(fs.get(i)));
            if (!ids.isEmpty()) {
                return ids.getFirst();
            }
        }
        return -1;
    }

    static long percentile(List<Long> values, double p) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
    }
}
