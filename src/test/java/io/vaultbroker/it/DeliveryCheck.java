package io.vaultbroker.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.vaultbroker.stomp.StompCommand;

/**
 * DESIGN.md §4 checked on what one client received: every committed row once per destination,
 * in id order unless marked x-late. Not shared between threads.
 */
final class DeliveryCheck {
    private DeliveryCheck() {
    }

    /** Collects the client's frames until every expected row id has arrived or the timeout passes. */
    static List<StompTestClient.Received> collect(StompTestClient c, Map<String, List<Long>> expected, Duration timeout)
            throws InterruptedException {
        Set<Long> want = new TreeSet<>();
        expected.values().forEach(want::addAll);
        Set<Long> seen = new HashSet<>();
        List<StompTestClient.Received> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!seen.containsAll(want)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            StompTestClient.Received r = c.poll(Duration.ofNanos(left));
            if (r != null) {
                out.add(r);
                seen.addAll(Messages.rowIds(List.of(r)));
            }
        }
        // A short look for duplicates arriving after the last expected row.
        out.addAll(c.collectUntil(fs -> false, Duration.ofMillis(300)));
        return out;
    }

    /** What went wrong, as a user would tell it; empty when the delivery is right. */
    static String problems(Map<String, List<Long>> expected, List<StompTestClient.Received> frames) {
        Map<String, List<Long>> got = new HashMap<>();
        Map<String, List<Long>> inOrder = new HashMap<>();
        for (StompTestClient.Received r : frames) {
            if (r.command() != StompCommand.MESSAGE || Messages.rowIds(List.of(r)).isEmpty()) {
                continue;
            }
            long id = Messages.rowIds(List.of(r)).getFirst();
            got.computeIfAbsent(r.header("destination"), k -> new ArrayList<>()).add(id);
            if (!"true".equals(r.header("x-late"))) {
                inOrder.computeIfAbsent(r.header("destination"), k -> new ArrayList<>()).add(id);
            }
        }
        int committed = 0;
        List<Long> missing = new ArrayList<>();
        List<String> faults = new ArrayList<>();
        for (Map.Entry<String, List<Long>> e : expected.entrySet()) {
            committed += e.getValue().size();
            List<Long> received = got.getOrDefault(e.getKey(), List.of());
            for (Long id : e.getValue()) {
                if (!received.contains(id)) {
                    missing.add(id);
                }
            }
            Set<Long> once = new LinkedHashSet<>();
            for (Long id : received) {
                if (!once.add(id)) {
                    faults.add("id " + id + " twice on " + e.getKey());
                } else if (!e.getValue().contains(id)) {
                    faults.add("id " + id + " on " + e.getKey() + " was never committed there");
                }
            }
            List<Long> ordered = inOrder.getOrDefault(e.getKey(), List.of());
            for (int i = 1; i < ordered.size(); i++) {
                if (ordered.get(i) <= ordered.get(i - 1)) {
                    faults.add("id " + ordered.get(i) + " after " + ordered.get(i - 1) + " on " + e.getKey()
                            + " without x-late");
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        if (!missing.isEmpty()) {
            missing.sort(null);
            sb.append(missing.size()).append(" of ").append(committed).append(" committed rows never delivered: ")
                    .append(ranges(missing)).append(". ");
        }
        if (!faults.isEmpty()) {
            sb.append(faults.size()).append(" wrong deliveries: ").append(faults.subList(0, Math.min(10, faults.size())));
        }
        return sb.toString();
    }

    // 5,6,7,9 -> "5..7, 9": a lost batch reads as one range.
    private static String ranges(List<Long> ids) {
        StringBuilder sb = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < ids.size() && shown < 20; ) {
            int j = i;
            while (j + 1 < ids.size() && ids.get(j + 1) == ids.get(j) + 1) {
                j++;
            }
            sb.append(shown++ == 0 ? "" : ", ").append(ids.get(i));
            if (j > i) {
                sb.append("..").append(ids.get(j));
            }
            i = j + 1;
        }
        return sb.toString();
    }
}
