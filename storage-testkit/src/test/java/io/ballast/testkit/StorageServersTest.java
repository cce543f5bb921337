package io.ballast.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each server starts, answers HTTP on its loopback port, dies with kill and comes back. */
class StorageServersTest {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path tmp;

  @Test
  void s3ProxyChecksSignaturesAndSurvivesARestart() throws Exception {
    try (S3ProxyServer server = S3ProxyServer.start(tmp)) {
      server.createBucket("ballast-resources");
      // An anonymous write is refused (the server checks signatures); the bucket exists.
      assertThat(putAnonymously(server.endpoint().resolve("/ballast-resources/x")).statusCode())
          .isEqualTo(403);
      assertThat(get(server.endpoint().resolve("/ballast-resources")).body())
          .contains("<Name>ballast-resources</Name>");
      long pid = server.pid();

      server.kill();

      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
      assertRefused(server.endpoint());
      server.restart();
      assertThat(get(server.endpoint().resolve("/ballast-resources")).body())
          .contains("<Name>ballast-resources</Name>");
    }
  }

  @Test
  void s3MockMakesTheInitialBuckets() throws Exception {
    try (S3MockServer server = S3MockServer.start(tmp, "ballast-config", "ballast-resources")) {
      HttpResponse<String> list = get(server.endpoint().resolve("/"));

      assertThat(list.statusCode()).isEqualTo(200);
      assertThat(list.body())
          .contains("<Name>ballast-config</Name>")
          .contains("<Name>ballast-resources</Name>");
    }
  }

  @Test
  void azuriteServesTheDevelopmentAccount() throws Exception {
    try (AzuriteServer server = AzuriteServer.start(tmp)) {
      // Without a signature, listing containers is refused by the account, not by a missing route.
      HttpResponse<String> list = get(URI.create(server.blobEndpoint() + "?comp=list"));

      assertThat(list.statusCode()).isEqualTo(403);
      assertThat(server.connectionString()).contains("BlobEndpoint=" + server.blobEndpoint());
    }
  }

  @Test
  void closedServersLeaveNoProcess() {
    S3ProxyServer server = S3ProxyServer.start(tmp);
    long pid = server.pid();

    server.close();

    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(ProcessRegistry.running()).noneMatch(p -> p.pid() == pid);
  }

  private static HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> putAnonymously(URI uri)
      throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(uri)
            .PUT(HttpRequest.BodyPublishers.ofString("x"))
            .timeout(Duration.ofSeconds(10))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void assertRefused(URI endpoint) {
    try {
      get(endpoint);
      throw new AssertionError(endpoint + " still answers");
    } catch (ConnectException e) {
      // refused, as expected
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(endpoint + ": expected connection refused, got " + e, e);
    }
  }
}
