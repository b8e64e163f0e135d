package io.vaultbroker.it;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import io.vaultbroker.Application;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard in a real headless Chromium: served by the broker at /, it connects with
 * stompjs, shows rows inserted into vault_events, and reconnects and resumes after a restart.
 * Uses Debian's chromium and chromedriver; Selenium Manager never downloads anything.
 */
class DashboardBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static final Duration WAIT = Duration.ofSeconds(20);

    private Application app;
    private WebDriver driver;
    private Path profile;
    private String testName;
    // A database of this test's own, so rows other tests write (TVL especially) stay off the page.
    private String database;
    private String url;

    @BeforeEach
    void browser(TestInfo info) throws Exception {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!installed && "true".equals(System.getenv("CI"))) {
            fail("CI=true but " + CHROMIUM + " or " + CHROMEDRIVER
                    + " is missing: apt-get install chromium chromium-driver");
        }
        assumeTrue(installed, "DashboardBrowserTest skipped: " + CHROMIUM + " or " + CHROMEDRIVER
                + " is missing (apt-get install chromium chromium-driver); with CI=true it fails instead");
        testName = info.getTestMethod().map(m -> m.getName()).orElse("dashboard");
        TestDb.ensure();
        database = "vault_broker_dash_" + UUID.randomUUID().toString().replace("-", "");
        url = "jdbc:postgresql://" + TestDb.HOST + ":5432/" + database;
        try (Connection c = DriverManager.getConnection(TestDb.URL, "postgres", "");
             Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + database);
        }

        profile = Files.createTempDirectory("vault-broker-chromium");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--force-device-scale-factor=1", "--lang=en-US");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        driver = new ChromeDriver(service, options);
        driver.manage().window().setSize(new Dimension(1440, 1080));
    }

    @AfterEach
    void close() throws IOException {
        if (driver != null) {
            driver.quit();
        }
        if (app != null) {
            app.stop();
        }
        if (database != null) {
            try (Connection c = DriverManager.getConnection(TestDb.URL, "postgres", "");
                 Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            } catch (SQLException e) {
                System.err.println("could not drop " + database + ": " + e.getMessage());
            }
        }
        if (profile != null) {
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void showsLiveBalanceTransactionsAndTvl() throws Exception {
        app = TestBroker.start("db.connection.url", url);
        String owner = TestBroker.pubkey();
        open(app.port());
        connectAdmin(TestBroker.adminToken());
        connectUser(TestBroker.userToken(owner));

        // TVL above 2^53 units, written as strings as DESIGN §3 asks: the page must show every digit.
        long[] tvlSteps = {0, 812_450_000_000L, 1_530_020_000_000L, 1_210_700_000_000L, 2_480_000_000_000L,
            3_105_330_000_000L, 2_870_500_000_000L, 3_944_120_000_000L};
        for (long step : tvlSteps) {
            String tvl = new BigInteger("48205117932104567").add(BigInteger.valueOf(step)).toString();
            insert("tvl_update", null, "{\"tvl\":\"" + tvl + "\"}");
        }
        insert("transaction_confirmed", owner,
                "{\"transactionId\":\"a73028b9-6e47-4e8c-8ffd-5f13ecc797a7\",\"transactionType\":\"deposit\","
                        + "\"amount\":1234567890000,\"signature\":\"5j7Ks8abc123\"}");
        insert("balance_update", owner, balance(owner, 1_234_567_890_000L, 0L));
        collateral(owner, "collateral_locked", "pos_12344", 50_000_000_000L, 1_234_567_890_000L, 50_000_000_000L);
        collateral(owner, "collateral_locked", "pos_12345", 200_000_000_000L, 1_234_567_890_000L, 250_000_000_000L);
        collateral(owner, "collateral_unlocked", "pos_12344", 50_000_000_000L, 1_234_567_890_000L, 200_000_000_000L);

        WebDriverWait wait = new WebDriverWait(driver, WAIT);
        try {
            wait.until(ExpectedConditions.textToBe(By.id("balance-total"), "1,234,567.89"));
            wait.until(ExpectedConditions.textToBe(By.id("balance-locked"), "200,000.00"));
            wait.until(ExpectedConditions.textToBe(By.id("balance-available"), "1,034,567.89"));
            // 48,205,117,932.104567 + 3,944,120.000000 USDT
            wait.until(ExpectedConditions.textToBe(By.id("tvl-value"), "48,209,062,052.10"));
            wait.until(ExpectedConditions.attributeToBe(By.id("tvl-value"), "title", "48,209,062,052.104567 USDT"));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("activity"), "Deposit confirmed"));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("activity"), "Collateral locked"));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("activity"), "Collateral unlocked"));
            wait.until(ExpectedConditions.attributeToBe(By.id("health-badge"), "data-status", "ok"));
        } catch (RuntimeException e) {
            screenshot(testName + "-failure");
            throw e;
        }
        screenshot("dashboard");
    }

    @Test
    void refusesABadTokenAndResumesAfterBrokerRestart() throws Exception {
        app = TestBroker.start("db.connection.url", url, "shutdown.retry-spread", "PT0.2S", "shutdown.drain", "PT0.5S");
        int port = app.port();
        String owner = TestBroker.pubkey();
        open(port);
        // A refused credential stops the session for good instead of retrying forever.
        driver.findElement(By.id("admin-token")).sendKeys(TestBroker.MINTER.mint("ops-admin", Set.of("admin"),
                Duration.ofSeconds(-60)));
        driver.findElement(By.id("admin-connect")).click();
        WebDriverWait wait = new WebDriverWait(driver, WAIT);
        wait.until(ExpectedConditions.attributeToBe(By.id("admin-conn"), "data-state", "error"));
        wait.until(ExpectedConditions.textToBe(By.id("admin-conn"), "authentication failed"));

        connectUser(TestBroker.userToken(owner));
        // A JSON number above 2^53: JSON.parse alone would turn its last digit 3 into a 2.
        insert("balance_update", owner, balance(owner, 9_007_199_254_740_993L, 0L));
        wait.until(ExpectedConditions.attributeToBe(By.id("balance-total"), "title", "9,007,199,254.740993 USDT"));

        app.stop();
        app = null;
        wait.until(ExpectedConditions.not(ExpectedConditions.attributeToBe(By.id("user-conn"), "data-state", "live")));
        // Written while the page is cut off. A tx destination sends no snapshot on SUBSCRIBE, so the
        // withdrawal can only reach the page through the x-resume-after replay.
        insert("transaction_confirmed", owner,
                "{\"transactionId\":\"resumed-1\",\"transactionType\":\"withdraw\",\"amount\":2000000}");
        insert("balance_update", owner, balance(owner, 3_000_000L, 0L));

        app = TestBroker.start("db.connection.url", url, "server.port", Integer.toString(port));
        try {
            wait.until(ExpectedConditions.attributeToBe(By.id("user-conn"), "data-state", "live"));
            wait.until(ExpectedConditions.textToBe(By.id("balance-total"), "3.00"));
            wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("activity"), "Withdraw confirmed"));
        } catch (RuntimeException e) {
            screenshot(testName + "-failure");
            throw e;
        }
        screenshot(testName);
    }

    @Test
    void aBrokerQueryParameterCannotSendTheTokenElsewhere() throws Exception {
        app = TestBroker.start("db.connection.url", url);
        String owner = TestBroker.pubkey();
        // A listener standing in for an attacker's broker: it counts every connection it gets.
        try (ServerSocket trap = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            AtomicInteger reached = new AtomicInteger();
            Thread.ofVirtual().start(() -> {
                while (!trap.isClosed()) {
                    try (Socket s = trap.accept()) {
                        reached.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    }
                }
            });
            String elsewhere = "ws://127.0.0.1:" + trap.getLocalPort() + "/stomp";
            driver.get("http://127.0.0.1:" + app.port() + "/?broker=" + elsewhere);
            new WebDriverWait(driver, WAIT).until(ExpectedConditions.titleContains("vault-broker"));
            connectUser(TestBroker.userToken(owner));
            WebDriverWait wait = new WebDriverWait(driver, WAIT);
            wait.until(ExpectedConditions.textToBe(By.id("broker-url"), "ws://127.0.0.1:" + app.port() + "/stomp"));
            insert("balance_update", owner, balance(owner, 5_000_000L, 0L));
            wait.until(ExpectedConditions.textToBe(By.id("balance-total"), "5.00"));

            // Even script on the page cannot open a socket elsewhere: connect-src allows only 'self'.
            ((JavascriptExecutor) driver).executeScript("window.__trap = 'pending';"
                    + "try { const ws = new WebSocket(arguments[0]);"
                    + " ws.onerror = () => { window.__trap = 'error'; }; ws.onopen = () => { window.__trap = 'open'; }; }"
                    + " catch (e) { window.__trap = 'thrown:' + e.name; }", elsewhere);
            wait.until(d -> !"pending".equals(((JavascriptExecutor) d).executeScript("return window.__trap;")));
            assertEquals(0, reached.get(), "the page connected to " + elsewhere);
            Object outcome = ((JavascriptExecutor) driver).executeScript("return window.__trap;");
            assertTrue(!"open".equals(outcome), "a WebSocket elsewhere opened: " + outcome);
        } catch (RuntimeException | AssertionError e) {
            screenshot(testName + "-failure");
            throw e;
        }
    }

    @Test
    void aBrokerTheOperatorListedMayBeChosen() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = free.getLocalPort();
        }
        // Another origin for the browser (localhost, not 127.0.0.1): allowed only because it is listed.
        String listed = "ws://localhost:" + port + "/stomp";
        app = TestBroker.start("db.connection.url", url, "server.port", Integer.toString(port),
                "dashboard.broker-urls.0", listed, "server.protocols.websocket.origins.0", "http://127.0.0.1:" + port);
        String owner = TestBroker.pubkey();
        driver.get("http://127.0.0.1:" + port + "/?broker=" + listed);
        new WebDriverWait(driver, WAIT).until(ExpectedConditions.titleContains("vault-broker"));
        try {
            connectUser(TestBroker.userToken(owner));
            new WebDriverWait(driver, WAIT).until(ExpectedConditions.textToBe(By.id("broker-url"), listed));
        } catch (RuntimeException e) {
            screenshot(testName + "-failure");
            throw e;
        }
    }

    private long insert(String type, String owner, String payload) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "postgres", "")) {
            return TestDb.insert(c, type, owner, payload);
        }
    }

    private void open(int port) {
        // 127.0.0.1 throughout: the WebSocket's Origin must match its Host or Helidon refuses the upgrade.
        driver.get("http://127.0.0.1:" + port + "/");
        new WebDriverWait(driver, WAIT).until(ExpectedConditions.titleContains("vault-broker"));
    }

    private void connectAdmin(String token) {
        driver.findElement(By.id("admin-token")).sendKeys(token);
        driver.findElement(By.id("admin-connect")).click();
        new WebDriverWait(driver, WAIT).until(ExpectedConditions.attributeToBe(By.id("admin-conn"), "data-state", "live"));
    }

    private void connectUser(String token) {
        // The pubkey field stays empty: the page follows the token's subject.
        driver.findElement(By.id("user-token")).sendKeys(token);
        driver.findElement(By.id("user-connect")).click();
        new WebDriverWait(driver, WAIT).until(ExpectedConditions.attributeToBe(By.id("user-conn"), "data-state", "live"));
    }

    /** A lock or unlock as the example triggers write it: the balance_update, then the collateral event. */
    private void collateral(String owner, String type, String position, long amount, long total, long locked)
            throws SQLException {
        insert("balance_update", owner, balance(owner, total, locked));
        insert(type, owner, "{\"owner\":\"" + owner + "\",\"amount\":" + amount + ",\"positionId\":\"" + position
                + "\",\"lockedBalance\":" + locked + ",\"availableBalance\":" + (total - locked) + "}");
    }

    private static String balance(String owner, long total, long locked) {
        return "{\"owner\":\"" + owner + "\",\"totalBalance\":" + total + ",\"lockedBalance\":" + locked
                + ",\"availableBalance\":" + (total - locked) + "}";
    }

    private void screenshot(String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        Path png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(png, SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }
}
