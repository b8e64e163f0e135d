package io.vaultbroker.web;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.websocket.WsUpgradeException;

/**
 * Works out the address a connection is counted and logged under: the socket's, or, when the
 * socket is a configured trusted proxy, the first untrusted hop of {@code X-Forwarded-For} read
 * from the right across all its header lines (a client may send lines of its own before the
 * proxy's, so only the right end is the proxy's word). Every hop must be an IP address (v4 or
 * v6, never a host name, which would mean a DNS lookup), or the upgrade is refused, so what
 * reaches a log line is always an address this class printed itself.
 *
 * <p>With Helidon's PROXY protocol on, Helidon appends the PROXY header's source address as the
 * last hop, and the socket's peer (the load balancer) is trusted as the proxy that said it.
 * Immutable, thread-safe.
 */
final class RemoteAddresses {
    private static final Pattern IPV4 = Pattern.compile("(?:0|[1-9][0-9]{0,2})(?:\\.(?:0|[1-9][0-9]{0,2})){3}");
    /** Starts with a hex digit or ':' and holds a ':': the JDK then parses it as a literal, never asking DNS. */
    private static final Pattern IPV6 = Pattern.compile("(?=[^:]*:)[0-9A-Fa-f:][0-9A-Fa-f:.]*");
    private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");
    /** More hops than any real chain of proxies; a longer header is an attack on our time. */
    private static final int MAX_HOPS = 64;

    private final List<Range> trusted;
    private final boolean proxyProtocol;

    /**
     * @param trustedProxies addresses or CIDR ranges ({@code 10.0.0.0/8}, {@code 2001:db8::/32})
     * @param proxyProtocol  whether Helidon's PROXY protocol is on for the listener
     * @throws IllegalArgumentException naming the entry that is neither
     */
    RemoteAddresses(List<String> trustedProxies, boolean proxyProtocol) {
        List<Range> ranges = new ArrayList<>();
        for (String entry : trustedProxies) {
            ranges.add(Range.parse(entry.strip()));
        }
        this.trusted = List.copyOf(ranges);
        this.proxyProtocol = proxyProtocol;
    }

    RemoteAddresses(List<String> trustedProxies) {
        this(trustedProxies, false);
    }

    /**
     * All {@code X-Forwarded-For} lines of a request, as one comma-separated list of canonical
     * addresses in order, or null when there are none.
     *
     * @throws WsUpgradeException (400) when a hop is not an IP address
     */
    String forwardedFor(Headers headers) throws WsUpgradeException {
        List<String> lines = headers.all(HeaderNames.X_FORWARDED_FOR, List::of);
        if (lines.isEmpty()) {
            return null;
        }
        StringBuilder out = new StringBuilder();
        int hops = 0;
        for (String line : lines) {
            for (String hop : line.split(",", -1)) {
                InetAddress address = parseHop(hop.strip());
                if (address == null || ++hops > MAX_HOPS) {
                    // The header text itself never reaches a log or the response.
                    throw new WsUpgradeException("X-Forwarded-For must list IP addresses");
                }
                if (!out.isEmpty()) {
                    out.append(',');
                }
                out.append(address.getHostAddress());
            }
        }
        return out.toString();
    }

    /**
     * @param forwardedFor what {@link #forwardedFor(Headers)} returned for this connection
     */
    String resolve(SocketAddress socket, String forwardedFor) {
        if (!(socket instanceof InetSocketAddress isa) || isa.getAddress() == null) {
            return "unknown";
        }
        InetAddress peer = isa.getAddress();
        if (forwardedFor == null || !(proxyProtocol || isTrusted(peer))) {
            return peer.getHostAddress();
        }
        String[] hops = forwardedFor.split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            InetAddress hop = parseHop(hops[i]);
            if (hop == null) {
                // Not from forwardedFor(): do not believe any of it.
                return peer.getHostAddress();
            }
            if (!isTrusted(hop) || i == 0) {
                // The first untrusted hop is the client; when every hop is a proxy of ours, the farthest one.
                return hop.getHostAddress();
            }
        }
        return peer.getHostAddress();
    }

    /** Whether a peer address, as the accept guard sees it ({@code getHostAddress()} text), is a trusted proxy. */
    boolean trusts(String address) {
        InetAddress a = address == null ? null : parseHop(address);
        return a != null && isTrusted(a);
    }

    private boolean isTrusted(InetAddress address) {
        for (Range r : trusted) {
            if (r.contains(address)) {
                return true;
            }
        }
        return false;
    }

    /**
     * An address as proxies write it ({@code 192.0.2.1}, {@code 192.0.2.1:4711}, {@code 2001:db8::1},
     * {@code [2001:db8::1]:443}), or null.
     */
    static InetAddress parseHop(String hop) {
        String host = hop;
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            if (end < 0) {
                return null;
            }
            String rest = host.substring(end + 1);
            if (!rest.isEmpty() && !(rest.startsWith(":") && PORT.matcher(rest.substring(1)).matches())) {
                return null;
            }
            host = host.substring(1, end);
            return IPV6.matcher(host).matches() ? literal(host) : null;
        }
        int colon = host.indexOf(':');
        if (colon >= 0 && colon == host.lastIndexOf(':') && host.indexOf('.') >= 0) {
            // IPv4 with a port (one colon; IPv6 has at least two).
            if (!PORT.matcher(host.substring(colon + 1)).matches()) {
                return null;
            }
            host = host.substring(0, colon);
        }
        return literal(host);
    }

    private static InetAddress literal(String text) {
        if (IPV4.matcher(text).matches()) {
            byte[] bytes = new byte[4];
            String[] parts = text.split("\\.");
            for (int i = 0; i < 4; i++) {
                int v = Integer.parseInt(parts[i]);
                if (v > 255) {
                    return null;
                }
                bytes[i] = (byte) v;
            }
            try {
                return InetAddress.getByAddress(bytes);
            } catch (UnknownHostException e) {
                return null;
            }
        }
        if (!IPV6.matcher(text).matches()) {
            return null;
        }
        try {
            // Only IPv6 literals get here (see IPV6), which the JDK parses without DNS; it maps
            // ::ffff:a.b.c.d to the IPv4 address.
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** An address range: an address with a prefix length. Immutable. */
    private record Range(byte[] network, int prefix) {
        static Range parse(String entry) {
            int slash = entry.indexOf('/');
            String host = slash < 0 ? entry : entry.substring(0, slash);
            InetAddress address = literal(host);
            if (address == null) {
                throw new IllegalArgumentException("limits.trusted-proxies entry '" + entry.replaceAll("[^ -~]", "?")
                        + "' is not an IP address or CIDR range (e.g. 10.0.0.7, 10.0.0.0/8, 2001:db8::/32)");
            }
            int bits = address.getAddress().length * 8;
            int prefix = bits;
            if (slash >= 0) {
                String p = entry.substring(slash + 1);
                if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > bits) {
                    throw new IllegalArgumentException("limits.trusted-proxies entry '" + entry.replaceAll("[^ -~]", "?")
                            + "' has a prefix length outside 0.." + bits);
                }
                prefix = Integer.parseInt(p);
            }
            return new Range(address.getAddress(), prefix);
        }

        boolean contains(InetAddress address) {
            byte[] a = address.getAddress();
            if (a.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (a[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xFF << (8 - rest)) & 0xFF;
            return (a[full] & mask) == (network[full] & mask);
        }
    }
}
