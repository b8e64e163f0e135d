package io.vaultbroker.cli;

import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

import io.vaultbroker.auth.Base58;
import io.vaultbroker.auth.TokenMinter;
import io.vaultbroker.broker.ResumeAfter;
import io.vaultbroker.stomp.StompCommand;
import io.vaultbroker.stomp.StompDecoder;
import io.vaultbroker.stomp.StompEncoder;
import io.vaultbroker.stomp.StompFrame;
import io.vaultbroker.stomp.StompHeaders;
import io.vaultbroker.stomp.StompLimits;

/**
 * The vault-broker command-line client: subscribes over STOMP and prints each MESSAGE as one JSON
 * line; also mints dev tokens and random pubkeys for scripts. Exit codes: 0 done, 1 timeout,
 * 2 usage error, 3 connection or authentication failure (or an ERROR frame).
 *
 * <p>Threading: the main thread runs the session; the WebSocket listener only decodes and queues
 * frames; a scheduler thread sends heart-beats.
 */
public final class Cli {
    static final int OK = 0;
    static final int TIMEOUT = 1;
    static final int USAGE = 2;
    static final int FAILED = 3;

    private static final String USAGE_TEXT = """
            Usage:
              java -cp vault-broker.jar io.vaultbroker.cli.Cli [subscribe] --token JWT --subscribe DEST [--subscribe DEST ...]
                   [--url ws://localhost:8080/stomp] [--count N] [--timeout 30s] [--resume-after ID]
              java -cp vault-broker.jar io.vaultbroker.cli.Cli mint-token --secret SECRET --sub PUBKEY [--role admin ...] [--ttl PT1H]
              java -cp vault-broker.jar io.vaultbroker.cli.Cli random-pubkey [--count N]

            subscribe (the default): connects with the token (as CONNECT passcode), subscribes to each
              destination and prints every MESSAGE as one JSON line on stdout:
                {"destination":"…","messageId":"…","event":"…","body":{…the seed's envelope…}}
              (plus "snapshot":true, "late":true or "resume":"gap" when the frame says so).
              Progress and errors go to stderr; "subscribed" is printed there once every
              subscription is confirmed.
              --count N         exit 0 after N messages (default: run until --timeout or Ctrl-C)
              --timeout D       give up after D (30s, 500ms, 2m, PT1M): exit 1 when --count was not
                                reached, exit 0 when no --count was given
              --resume-after ID x-resume-after on every subscription (replays what came after row ID)
              --token JWT       or the environment variable VAULT_BROKER_TOKEN
            mint-token: prints an HS256 token (sub, roles, exp) signed with SECRET (>= 32 bytes; or the
              environment variable AUTH_JWT_SECRET), the way the broker's auth.jwt.secret checks it.
            random-pubkey: prints N (default 1) random base58 Ed25519-sized pubkeys, one a line.

            Exit codes: 0 done, 1 timeout, 2 usage error, 3 connection refused, authentication or
            other ERROR from the broker (its message is printed on stderr).
            """;

    private final PrintStream out;
    private final PrintStream err;

    Cli(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(new Cli(System.out, System.err).run(args));
    }

    /** Runs a command; returns the exit code. */
    int run(String[] args) {
        List<String> rest = new ArrayList<>(List.of(args));
        String command = "subscribe";
        if (!rest.isEmpty() && !rest.getFirst().startsWith("-")) {
            command = rest.removeFirst();
        }
        if (rest.contains("--help") || rest.contains("-h") || command.equals("help")) {
            out.print(USAGE_TEXT);
            return OK;
        }
        try {
            return switch (command) {
                case "subscribe" -> subscribe(Options.parse(rest));
                case "mint-token" -> mintToken(Options.parse(rest));
                case "random-pubkey" -> randomPubkey(Options.parse(rest));
                default -> throw new UsageException("unknown command: " + command);
            };
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            err.println("run with --help for usage");
            return USAGE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return FAILED;
        }
    }

    private int mintToken(Options o) throws UsageException {
        o.only("secret", "sub", "role", "ttl");
        String secret = o.one("secret", System.getenv("AUTH_JWT_SECRET"));
        String sub = o.one("sub", null);
        if (secret == null || secret.isEmpty()) {
            throw new UsageException("--secret (or AUTH_JWT_SECRET) is required");
        }
        if (sub == null || sub.isBlank()) {
            throw new UsageException("--sub is required");
        }
        Duration ttl = duration(o.one("ttl", "PT1H"));
        TokenMinter minter;
        try {
            minter = new TokenMinter(secret.getBytes(StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        out.println(minter.mint(sub, new LinkedHashSet<>(o.all("role")), ttl));
        return OK;
    }

    private int randomPubkey(Options o) throws UsageException {
        o.only("count");
        int n = integer(o.one("count", "1"), "count");
        SecureRandom random = new SecureRandom();
        for (int i = 0; i < n; i++) {
            byte[] b = new byte[32];
            random.nextBytes(b);
            b[0] |= 1; // no leading zero byte: the base58 form never starts with '1'
            out.println(Base58.encode(b));
        }
        return OK;
    }

    private int subscribe(Options o) throws UsageException, InterruptedException {
        o.only("url", "token", "subscribe", "count", "timeout", "resume-after");
        String token = o.one("token", System.getenv("VAULT_BROKER_TOKEN"));
        if (token == null || token.isEmpty()) {
            throw new UsageException("--token (or VAULT_BROKER_TOKEN) is required");
        }
        List<String> destinations = o.all("subscribe");
        if (destinations.isEmpty()) {
            throw new UsageException("at least one --subscribe DESTINATION is required");
        }
        URI url;
        try {
            url = URI.create(o.one("url", "ws://localhost:8080/stomp"));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--url: " + e.getMessage());
        }
        if (!"ws".equals(url.getScheme()) && !"wss".equals(url.getScheme())) {
            throw new UsageException("--url must start with ws:// or wss://");
        }
        String countText = o.one("count", null);
        int count = countText == null ? -1 : integer(countText, "count");
        String timeoutText = o.one("timeout", null);
        long deadline = timeoutText == null ? Long.MAX_VALUE : System.nanoTime() + duration(timeoutText).toNanos();
        String resumeAfter = o.one("resume-after", null);
        if (ResumeAfter.parse(resumeAfter).invalid()) {
            throw new UsageException("--resume-after must be a message-id (a decimal row id)");
        }

        Connection c;
        try {
            c = Connection.open(url);
        } catch (Exception e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            err.println("error: cannot connect to " + url + ": "
                    + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
            return FAILED;
        }
        ScheduledExecutorService beats = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon(true).name("cli-heartbeat").factory());
        try {
            c.send(StompFrame.of(StompCommand.CONNECT, StompHeaders.of("accept-version", "1.2",
                    "host", url.getHost(), "passcode", token, "heart-beat", "10000,0")));
            StompFrame connected = c.next(deadline);
            if (connected == null) {
                return timeout("no CONNECTED from " + url);
            }
            if (connected.command() != StompCommand.CONNECTED) {
                return failed(connected);
            }
            // We promised a beat every 10 s; the broker closes a session silent for twice that.
            beats.scheduleAtFixedRate(() -> c.sendQuietly(StompEncoder.HEARTBEAT), 10, 10, TimeUnit.SECONDS);
            err.println("connected to " + url + " as " + connected.header("user-name")
                    + " (session " + connected.header("session") + ")");
            for (int i = 0; i < destinations.size(); i++) {
                StompHeaders.Builder h = StompHeaders.builder().add("id", "sub-" + i)
                        .add("destination", destinations.get(i)).add("receipt", "sub-" + i);
                if (resumeAfter != null) {
                    h.add("x-resume-after", resumeAfter);
                }
                c.send(StompFrame.of(StompCommand.SUBSCRIBE, h.build()));
            }
            int receipts = 0;
            int printed = 0;
            while (count < 0 || printed < count) {
                StompFrame f = c.next(deadline);
                if (f == null) {
                    if (c.closed.isDone()) {
                        err.println("error: connection closed by the broker (code " + c.closed.getNow(-1) + ")");
                        return FAILED;
                    }
                    if (count < 0) {
                        return OK;
                    }
                    return timeout("got " + printed + " of " + count + " messages");
                }
                switch (f.command()) {
                    case RECEIPT -> {
                        if (++receipts == destinations.size()) {
                            err.println("subscribed: " + String.join(" ", destinations));
                        }
                    }
                    case MESSAGE -> {
                        out.println(line(f));
                        out.flush();
                        printed++;
                    }
                    case ERROR -> {
                        return failed(f);
                    }
                    default -> {
                    }
                }
            }
            c.send(StompFrame.of(StompCommand.DISCONNECT, StompHeaders.of()));
            return OK;
        } finally {
            beats.shutdownNow();
            c.abort();
        }
    }

    private int timeout(String what) {
        err.println("error: timeout: " + what);
        return TIMEOUT;
    }

    private int failed(StompFrame f) {
        String body = f.bodyAsString();
        err.println("error: " + (f.header("message") == null ? f.command().name() : f.header("message"))
                + (body.isBlank() || body.equals(f.header("message")) ? "" : " (" + body.strip() + ")"));
        return FAILED;
    }

    /** One MESSAGE as a JSON line; the body is embedded as sent, so numbers stay digit for digit. */
    static String line(StompFrame f) {
        String body = f.bodyAsString();
        StringBuilder sb = new StringBuilder(body.length() + 128).append('{');
        sb.append("\"destination\":").append(quote(f.header("destination")));
        sb.append(",\"messageId\":").append(quote(f.header("message-id")));
        sb.append(",\"event\":").append(quote(f.header("event")));
        if ("true".equals(f.header("x-snapshot"))) {
            sb.append(",\"snapshot\":true");
        }
        if ("true".equals(f.header("x-late"))) {
            sb.append(",\"late\":true");
        }
        if (f.header("x-resume") != null) {
            sb.append(",\"resume\":").append(quote(f.header("x-resume")));
        }
        String trimmed = body.strip();
        sb.append(",\"body\":").append(trimmed.startsWith("{") && trimmed.endsWith("}") ? trimmed : quote(body));
        return sb.append('}').toString();
    }

    static String quote(String s) {
        return s == null ? "null" : "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
    }

    /** 30s, 500ms, 2m, 1h, or ISO-8601 (PT30S). */
    static Duration duration(String s) throws UsageException {
        try {
            String t = s.trim().toLowerCase(Locale.ROOT);
            if (t.startsWith("pt") || t.startsWith("p")) {
                return Duration.parse(s.trim());
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            return switch (t.charAt(t.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> Duration.ofSeconds(Long.parseLong(t));
            };
        } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
            throw new UsageException("not a duration: " + s + " (use 30s, 500ms, 2m, 1h or PT30S)");
        }
    }

    private static int integer(String s, String name) throws UsageException {
        try {
            int n = Integer.parseInt(s);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a non-negative integer");
        }
    }

    /** A usage error: exit code 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message, null, false, false);
        }
    }

    /** {@code --name value} pairs; a name may repeat. */
    private record Options(List<String[]> pairs) {
        static Options parse(List<String> args) throws UsageException {
            List<String[]> pairs = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (!a.startsWith("--") || a.length() < 3) {
                    throw new UsageException("unexpected argument: " + a);
                }
                String name = a.substring(2);
                String value;
                int eq = name.indexOf('=');
                if (eq > 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                } else if (i + 1 < args.size()) {
                    value = args.get(++i);
                } else {
                    throw new UsageException("--" + name + " needs a value");
                }
                pairs.add(new String[] {name, value});
            }
            return new Options(pairs);
        }

        void only(String... names) throws UsageException {
            Set<String> allowed = Set.of(names);
            for (String[] p : pairs) {
                if (!allowed.contains(p[0])) {
                    throw new UsageException("unknown option --" + p[0]);
                }
            }
        }

        String one(String name, String fallback) throws UsageException {
            List<String> all = all(name);
            if (all.size() > 1) {
                throw new UsageException("--" + name + " given more than once");
            }
            return all.isEmpty() ? fallback : all.getFirst();
        }

        List<String> all(String name) {
            return pairs.stream().filter(p -> p[0].equals(name)).map(p -> p[1]).toList();
        }
    }

    /** The WebSocket and the frames decoded from it. */
    private static final class Connection implements WebSocket.Listener {
        private final LinkedBlockingQueue<StompFrame> frames = new LinkedBlockingQueue<>();
        private final CompletableFuture<Integer> closed = new CompletableFuture<>();
        private final StompDecoder decoder = new StompDecoder(new StompLimits(64 * 1024 * 1024, 256, 64 * 1024));
        private final StringBuilder partial = new StringBuilder();
        private WebSocket ws;

        static Connection open(URI url) throws Exception {
            Connection c = new Connection();
            c.ws = HttpClient.newHttpClient().newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(10))
                    .subprotocols("v12.stomp")
                    .buildAsync(url, c)
                    .get(15, TimeUnit.SECONDS);
            return c;
        }

        void send(StompFrame f) {
            ws.sendText(StompEncoder.encode(f), true).join();
        }

        void sendQuietly(String text) {
            try {
                ws.sendText(text, true).join();
            } catch (RuntimeException ignored) {
                // The main thread notices a closed connection.
            }
        }

        /** The next frame, or null at the deadline or once the connection closed with nothing left. */
        StompFrame next(long deadline) throws InterruptedException {
            while (true) {
                StompFrame f = frames.poll(Math.min(100, Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()))),
                        TimeUnit.MILLISECONDS);
                if (f != null) {
                    return f;
                }
                if (closed.isDone() && frames.isEmpty()) {
                    return null;
                }
                if (deadline != Long.MAX_VALUE && System.nanoTime() - deadline >= 0) {
                    return null;
                }
            }
        }

        void abort() {
            if (ws != null) {
                ws.abort();
            }
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                byte[] bytes = partial.toString().getBytes(StandardCharsets.UTF_8);
                partial.setLength(0);
                for (StompDecoder.Decoded d : decoder.feed(bytes)) {
                    if (d instanceof StompDecoder.Frame f) {
                        frames.add(f.frame());
                    }
                }
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closed.complete(statusCode);
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.complete(-1);
        }
    }
}
