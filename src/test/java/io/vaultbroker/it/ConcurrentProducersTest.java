package io.vaultbroker.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.vaultbroker.Application;
import io.vaultbroker.stomp.StompCommand;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;

/**
 * Eight producer connections, a few hundred owners, transactions committing out of id order,
 * sleeping, rolling back and failing: every committed row reaches its subscribers exactly once,
 * in id order per destination, and nothing of a rolled-back transaction arrives.
 */
class ConcurrentProducersTest {
    private static final int OWNERS = 200;
    private static final int SUBS_PER_SESSION = 50;
    private static Application app;

    @BeforeAll
    static void start() throws Exception {
        app = TestBroker.start();
    }

    @AfterAll
    static void stop() {
        app.stop();
    }

    @Test
    void everyCommittedRowExactlyOnceInOrder() throws Exception {
        List<String> owners = new ArrayList<>();
        for (int i = 0; i < OWNERS; i++) {
            owners.add(TestBroker.pubkey());
        }
        List<String> destinations = new ArrayList<>();
        for (String o : owners) {
            destinations.add("/user/" + o + "/balance");
            destinations.add("/user/" + o + "/tx");
        }
        List<StompTestClient> sessions = new ArrayList<>();
        try {
            for (int i = 0; i < destinations.size(); i++) {
                if (i % SUBS_PER_SESSION == 0) {
                    sessions.add(StompTestClient.connect(app.port(), TestBroker.adminToken()));
                }
                sessions.getLast().subscribe("s" + i, destinations.get(i));
            }

            List<Producers.Row> committed = Producers.run(8, 60, owners, 42);

            Map<String, List<Long>> expected = new HashMap<>();
            for (Producers.Row r : committed.stream().sorted((a, b) -> Long.compare(a.id(), b.id())).toList()) {
                String dest = "/user/" + r.owner() + (r.type().startsWith("transaction_") ? "/tx" : "/balance");
                expected.computeIfAbsent(dest, k -> new ArrayList<>()).add(r.id());
            }
            Map<String, List<Long>> received = new HashMap<>();
            int total = committed.size();
            int got = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            for (StompTestClient s : sessions) {
                // Each session's share: all messages of its destinations.
                while (System.nanoTime() < deadline && got < total) {
                    StompTestClient.Received m = s.poll(Duration.ofMillis(500));
                    if (m == null) {
                        break;
                    }
                    assertThat(m.command(), is(StompCommand.MESSAGE));
                    assertThat("no row is late in this run", m.header("x-late"), nullValue());
                    received.computeIfAbsent(m.header("destination"), k -> new ArrayList<>())
                            .add(Long.parseLong(m.header("message-id")));
                    got++;
                }
            }
            // Anything still arriving would be a duplicate or a rolled-back row.
            for (StompTestClient s : sessions) {
                StompTestClient.Received extra = s.poll(Duration.ofMillis(200));
                assertThat("nothing beyond the committed rows", extra == null ? null : extra.header("message-id"), nullValue());
            }
            System.out.printf("concurrent producers: %d committed rows over %d destinations delivered%n", total,
                    expected.size());
            assertThat(received, is(expected));
            assertThat("the run left id gaps for the feed to resolve", app.feed().stats().gapsRolledBack() > 0, is(true));
        } finally {
            sessions.forEach(StompTestClient::close);
        }
    }
}
