package io.vaultbroker.web;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.helidon.http.HeaderNames;
import io.helidon.http.WritableHeaders;
import io.helidon.websocket.WsUpgradeException;

import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * X-Forwarded-For as a trusted proxy means it: every line, read from the right, each hop an IP
 * address; the first untrusted hop is the client.
 */
class RemoteAddressesTest {
    private static final InetSocketAddress PROXY = new InetSocketAddress(ip("10.1.2.3"), 40000);
    private static final InetSocketAddress STRANGER = new InetSocketAddress(ip("198.51.100.20"), 40000);
    private final RemoteAddresses addresses = new RemoteAddresses(List.of("10.0.0.0/8", "2001:db8:ffff::/48"));

    private static InetAddress ip(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static WritableHeaders<?> lines(String... values) {
        WritableHeaders<?> h = WritableHeaders.create();
        for (String v : values) {
            h.add(HeaderNames.X_FORWARDED_FOR, v);
        }
        return h;
    }

    private String resolve(InetSocketAddress peer, String... lines) throws WsUpgradeException {
        return addresses.resolve(peer, addresses.forwardedFor(lines(lines)));
    }

    @Test
    void aSpoofedFirstLineIsNotTheClient() throws Exception {
        // The client sent the first line itself; the proxy appended the second with what it saw.
        assertThat(resolve(PROXY, "6.6.6.6", "203.0.113.9"), is("203.0.113.9"));
        assertThat(resolve(PROXY, "1.1.1.1, 6.6.6.6", "203.0.113.9"), is("203.0.113.9"));
    }

    @Test
    void allLinesAreOneListWalkedFromTheRight() throws Exception {
        // Client 203.0.113.9 -> edge proxy 10.0.0.5 -> proxy 10.1.2.3 (the socket).
        assertThat(resolve(PROXY, "192.0.2.77, 203.0.113.9", "10.0.0.5"), is("203.0.113.9"));
        assertThat(resolve(PROXY, "192.0.2.77", "203.0.113.9, 10.0.0.5", "10.9.9.9"), is("203.0.113.9"));
        // Every hop one of ours: the farthest is the best we know.
        assertThat(resolve(PROXY, "10.0.0.7, 10.0.0.5"), is("10.0.0.7"));
        // No header: the proxy itself.
        assertThat(resolve(PROXY), is("10.1.2.3"));
    }

    @Test
    void aPeerThatIsNoTrustedProxyIsItsOwnAddress() throws Exception {
        assertThat(resolve(STRANGER, "203.0.113.9"), is("198.51.100.20"));
    }

    @Test
    void garbageHopsRefuseTheUpgrade() {
        for (String bad : List.of("evil) authentication ok (admin", "example.com", "localhost", "1.2.3", "1.2.3.4.5",
                "01.2.3.4", "1.2.3.256", "1.2.3.4:", "1.2.3.4:123456", "unknown", "_hidden", "", " , ",
                "1.2.3.4,", "fe80::1%eth0", "[2001:db8::1", "[2001:db8::1]x", "2001:db8::g", "1.2.3.4\r\nX: y",
                "::ffff:999.1.1.1", "0x7f.0.0.1", ".:", "[.:]", "[example.com]")) {
            assertThrows(WsUpgradeException.class, () -> addresses.forwardedFor(lines(bad)), bad);
            // Also when the garbage is on another line than good hops, and from a peer we do not trust.
            assertThrows(WsUpgradeException.class, () -> addresses.forwardedFor(lines("203.0.113.9", bad)), bad);
        }
    }

    @Test
    void ipv6HopsAndRanges() throws Exception {
        InetSocketAddress v6proxy = new InetSocketAddress(ip("2001:db8:ffff::10"), 443);
        assertThat(resolve(v6proxy, "2001:db8::1"), is("2001:db8:0:0:0:0:0:1"));
        assertThat(resolve(v6proxy, "[2001:db8::2]:443, 2001:db8:ffff::1"), is("2001:db8:0:0:0:0:0:2"));
        // An IPv4-mapped address is the IPv4 address (so it meets the IPv4 ranges and limits).
        assertThat(resolve(PROXY, "::ffff:192.0.2.1"), is("192.0.2.1"));
        assertThat(resolve(PROXY, "192.0.2.1:4711"), is("192.0.2.1"));
        // Just outside the trusted /48.
        assertThat(resolve(v6proxy, "203.0.113.9", "2001:db8:fffe::1"), is("2001:db8:fffe:0:0:0:0:1"));
    }

    @Test
    void withTheProxyProtocolTheLoadBalancerIsTrusted() throws Exception {
        RemoteAddresses pp = new RemoteAddresses(List.of(), true);
        // Helidon appends the PROXY header's source as the last hop.
        assertThat(pp.resolve(STRANGER, pp.forwardedFor(lines("6.6.6.6", "203.0.113.9"))), is("203.0.113.9"));
        assertThat(pp.resolve(STRANGER, pp.forwardedFor(lines())), is("198.51.100.20"));
    }

    @Test
    void trustedProxiesMustBeAddressesOrRanges() {
        for (String bad : List.of("proxy.internal", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0/8")) {
            assertThrows(IllegalArgumentException.class, () -> new RemoteAddresses(List.of(bad)), bad);
        }
        new RemoteAddresses(List.of("10.0.0.1", " 192.168.0.0/16 ", "::1", "2001:db8::/32", "0.0.0.0/0"));
    }

    @Test
    void theResultIsAlwaysAnAddressWeWrote() throws Exception {
        // Seeded random chains of trusted and untrusted hops: the answer is the rightmost untrusted
        // hop, in canonical form, whatever the spelling and the split across lines.
        long seed = System.nanoTime();
        System.out.println("RemoteAddressesTest seed " + seed);
        Random random = new Random(seed);
        for (int run = 0; run < 2000; run++) {
            int n = 1 + random.nextInt(6);
            List<String> hops = new ArrayList<>();
            String expected = null;
            for (int i = 0; i < n; i++) {
                boolean trusted = random.nextBoolean();
                String hop = trusted ? "10." + random.nextInt(256) + "." + random.nextInt(256) + "." + random.nextInt(256)
                        : "203.0.113." + random.nextInt(256);
                hops.add(random.nextInt(4) == 0 ? hop + ":" + random.nextInt(65536) : hop);
                if (!trusted) {
                    expected = hop;
                }
            }
            if (expected == null) {
                expected = hops.getFirst().replaceAll(":.*", "");
            }
            List<String> lines = new ArrayList<>();
            StringBuilder line = new StringBuilder();
            for (String hop : hops) {
                if (!line.isEmpty() && random.nextBoolean()) {
                    lines.add(line.toString());
                    line.setLength(0);
                }
                line.append(line.isEmpty() ? "" : random.nextBoolean() ? ", " : ",").append(hop);
            }
            lines.add(line.toString());
            assertThat(lines + " (seed " + seed + ")", resolve(PROXY, lines.toArray(String[]::new)), is(expected));
        }
    }

    @Test
    void parsesOnlyLiterals() {
        assertThat(RemoteAddresses.parseHop("localhost"), is(nullValue()));
        assertThat(RemoteAddresses.parseHop("127.0.0.1").getHostAddress(), is("127.0.0.1"));
    }
}
