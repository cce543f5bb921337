package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.chaos.ClusterFixture.ControlPlane;
import io.ballast.chaos.ClusterFixture.DataPlane;
import io.ballast.gateway.tls.GeneratedCertificates;
import io.ballast.testkit.FreePorts;
import io.ballast.testkit.S3ProxyServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

/**
 * A full scenario with every kind of secret in play — the storage credentials, the admin key, the
 * keyring, consumers' key-auth keys and basic-auth passwords, a TLS private key — after which every
 * log line, every /status answer, every metrics page and every Admin API error body the nodes
 * produced is searched for them. None may appear: not echoed in an error, not printed with a
 * configuration, not logged by a failed authentication.
 */
class SecretsStayHiddenTest {

  private static final String CONSUMER_KEY = "consumer-key-4b1d9e07c3a2f856";
  private static final String PASSWORD = "basic-password-8c2e6a1f93d7";
  private static final String WRONG_ADMIN_KEY = ClusterFixture.ADMIN_KEY + "-wrong";

  @TempDir Path tmp;

  private ClusterFixture cluster;

  /** Everything the nodes answered, by where it came from. */
  private final Map<String, String> answers = new LinkedHashMap<>();

  @AfterEach
  void killNodes() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void noSecretReachesALogAStatusAMetricsPageOrAnErrorBody() throws IOException {
    S3ProxyStorage storage = S3ProxyStorage.start(tmp.resolve("storage"));
    cluster = new ClusterFixture(tmp, storage);
    String upstream = cluster.upstream().hostPort();
    ControlPlane cp = cluster.controlPlane("cp");
    cp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    int metricsPort = FreePorts.next();
    DataPlane dp = dataPlaneWithMetrics(cp, metricsPort);
    dp.node().start().awaitReady(ClusterFixture.START_TIMEOUT);

    String admin = "http://127.0.0.1:" + cp.admin().port() + "/apisix/admin";
    String key = ClusterFixture.ADMIN_KEY;
    assertThat(
            Http.put(
                    admin + "/consumers",
                    key,
                    """
                    {"username":"jack","plugins":{"key-auth":{"key":"%s"}}}"""
                        .formatted(CONSUMER_KEY))
                .isSuccess())
        .isTrue();
    assertThat(
            Http.put(
                    admin + "/consumers",
                    key,
                    """
                    {"username":"jill","plugins":{"basic-auth":{"username":"jill","password":"%s"}}}"""
                        .formatted(PASSWORD))
                .isSuccess())
        .isTrue();
    for (String[] route : new String[][] {{"r1", "key-auth"}, {"r2", "basic-auth"}}) {
      assertThat(
              Http.put(
                      admin + "/routes/" + route[0],
                      key,
                      """
                      {"uri":"/%s","plugins":{"%s":{}},"upstream":{"nodes":{"%s":1}}}"""
                          .formatted(route[0], route[1], upstream))
                  .isSuccess())
          .isTrue();
    }

    GeneratedCertificates.Issued tls =
        GeneratedCertificates.ca("secrets-ca").server("secure.test", "secure.test");
    String ssl =
        JSON.createObjectNode()
            .put("cert", tls.certificatePem())
            .put("key", tls.keyPem())
            .set("snis", JSON.createArrayNode().add("secure.test"))
            .toString();
    assertThat(Http.put(admin + "/ssls/1", key, ssl).isSuccess()).isTrue();
    record("admin GET of the ssl", Http.get(admin + "/ssls/1", key));
    assertThat(answers.get("admin GET of the ssl")).startsWith("200");

    // Requests the Admin API refuses, each carrying a secret it might echo.
    record(
        "admin ssl whose key does not match its certificate",
        Http.put(
            admin + "/ssls/2",
            key,
            ssl.replace(
                JSON.valueToTree(tls.certificatePem()).toString(),
                JSON.valueToTree(
                        GeneratedCertificates.ca("other-ca").certificate().certificatePem())
                    .toString())));
    record("admin wrong key", Http.get(admin + "/routes", WRONG_ADMIN_KEY));
    record(
        "admin consumer with a bad name",
        Http.put(
            admin + "/consumers",
            key,
            """
            {"username":"no spaces allowed","plugins":{"key-auth":{"key":"%s"}}}"""
                .formatted(CONSUMER_KEY)));
    record(
        "admin key-auth key of the wrong type",
        Http.put(
            admin + "/consumers",
            key,
            """
            {"username":"jack","plugins":{"key-auth":{"key":["%s"]}}}"""
                .formatted(CONSUMER_KEY)));
    record(
        "admin truncated JSON",
        Http.put(
            admin + "/consumers",
            key,
            """
            {"username":"jill","plugins":{"basic-auth":{"username":"jill","password":"%s"""
                .formatted(PASSWORD)));
    record(
        "admin unknown plugin field",
        Http.put(
            admin + "/consumers",
            key,
            """
            {"username":"jill","plugins":{"basic-auth":{"username":"jill","pasword":"%s"}}}"""
                .formatted(PASSWORD)));
    record("admin method", Http.send("POST", admin + "/consumers", key, "{}"));
    for (String name : answers.keySet()) {
      if (name.startsWith("admin GET")) {
        continue;
      }
      assertThat(answers.get(name)).as(name).doesNotStartWith("2");
    }

    // Traffic, authenticated and not, while the DP follows the CP.
    String basic =
        "Basic "
            + Base64.getEncoder()
                .encodeToString(("jill:" + PASSWORD).getBytes(StandardCharsets.UTF_8));
    Await.until(
        "the key-auth route to serve",
        ClusterFixture.WAIT_TIMEOUT,
        ClusterFixture.POLL,
        () ->
            Http.get(dp.url("/r1"), Map.of("apikey", CONSUMER_KEY)).status() == 200
                ? Optional.of(true)
                : Optional.empty(),
        () -> dp.node().describeLog(40));
    record("proxy wrong key", Http.get(dp.url("/r1"), Map.of("apikey", CONSUMER_KEY + "x")));
    record("proxy key in the query", Http.get(dp.url("/r1?apikey=" + CONSUMER_KEY), Map.of()));
    record("proxy right password", Http.get(dp.url("/r2"), Map.of("Authorization", basic)));
    record(
        "proxy wrong password",
        Http.get(dp.url("/r2"), Map.of("Authorization", basic.substring(0, basic.length() - 2))));
    assertThat(answers.get("proxy right password")).startsWith("200");
    assertThat(answers.get("proxy wrong key")).startsWith("401");
    assertThat(answers.get("proxy key in the query")).startsWith("200");

    recordStatus("cp status", cp.node());
    recordStatus("dp status", dp.node());
    record(
        "dp metrics", Http.get("http://127.0.0.1:" + metricsPort + "/apisix/prometheus/metrics"));
    assertThat(answers.get("dp metrics")).startsWith("200");

    // The CP goes away: the DP serves from what it has, and a new DP starts from storage.
    cp.awaitExported();
    cp.node().kill();
    DataPlane cold = cluster.standaloneDataPlane("cold");
    cold.node().start().awaitReady(ClusterFixture.START_TIMEOUT);
    assertThat(Http.get(cold.url("/r1"), Map.of("apikey", CONSUMER_KEY)).status()).isEqualTo(200);
    assertThat(Http.get(dp.url("/r1"), Map.of("apikey", CONSUMER_KEY)).status()).isEqualTo(200);
    recordStatus("dp status without its CP", dp.node());
    recordStatus("cold dp status", cold.node());

    List<String> secrets = new ArrayList<>(storage.secrets());
    secrets.addAll(
        List.of(
            S3ProxyServer.ACCESS_KEY,
            ClusterFixture.ADMIN_KEY,
            CONSUMER_KEY,
            PASSWORD,
            basic.substring("Basic ".length()),
            Configs.KEYRING,
            privateKeyBody(tls.keyPem())));
    List<String> leaks = new ArrayList<>();
    answers.forEach((where, text) -> leaks.addAll(find(secrets, where, text)));
    try (Stream<Path> files = Files.walk(tmp)) {
      for (Path log :
          files.filter(file -> file.getFileName().toString().endsWith(".log")).toList()) {
        leaks.addAll(find(secrets, tmp.relativize(log).toString(), Files.readString(log)));
      }
    }
    assertThat(leaks).as("secrets found in what the nodes printed or answered").isEmpty();
  }

  /** A line from the middle of a PEM private key: enough to recognise it anywhere. */
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static String privateKeyBody(String pem) {
    String[] lines = pem.split("\n");
    return lines[lines.length / 2];
  }

  private DataPlane dataPlaneWithMetrics(ControlPlane cp, int metricsPort) {
    int proxyPort = FreePorts.next();
    int statusPort = FreePorts.next();
    Path dir = tmp.resolve("dp");
    String config =
        Configs.dataPlane(dir, cluster.storage(), cp.confPort(), proxyPort, statusPort)
            + """
            plugin_attr:
              prometheus:
                export_addr:
                  ip: 127.0.0.1
                  port: %d
            """
                .formatted(metricsPort);
    return new DataPlane(cluster.track(BallastNode.of("dp", dir, statusPort, config)), proxyPort);
  }

  private void record(String where, Http.Response response) {
    answers.put(where, response.toString());
  }

  private void recordStatus(String where, BallastNode node) {
    answers.put(where, Http.get(node.statusUrl()).toString());
  }

  /** Each secret found in {@code text}, with where and the line, the secret itself masked. */
  private static List<String> find(List<String> secrets, String where, String text) {
    List<String> found = new ArrayList<>();
    for (String line : text.split("\n")) {
      for (String secret : secrets) {
        if (line.contains(secret)) {
          String masked = secret.substring(0, 3) + "***";
          found.add(where + ": " + line.replace(secret, masked));
        }
      }
    }
    return found;
  }
}
