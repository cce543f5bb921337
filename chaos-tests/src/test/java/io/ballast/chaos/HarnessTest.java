package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.testkit.FreePorts;
import io.ballast.testkit.ProcessRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness on its own: no service jar needed. */
class HarnessTest {

  @TempDir Path tmp;

  private JavaProcess process;

  @AfterEach
  void killProcess() {
    if (process != null) {
      process.kill();
    }
  }

  @Test
  void freePortsAreDistinct() {
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      ports.add(FreePorts.next());
    }
    assertThat(ports).hasSize(20).allSatisfy(port -> assertThat(port).isBetween(1, 65535));
  }

  @Test
  void upstreamAnswersIpLikeHttpbin() {
    try (UpstreamServer upstream = UpstreamServer.start()) {
      Http.Response response = Http.get("http://" + upstream.hostPort() + "/ip");

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.json().path("origin").asString()).isEqualTo("127.0.0.1");
      assertThat(Http.get("http://" + upstream.hostPort() + "/nothing").status()).isEqualTo(404);
      assertThat(upstream.requestCount()).isEqualTo(2);
    }
  }

  @Test
  void closedUpstreamGivesNoResponse() {
    UpstreamServer upstream = UpstreamServer.start();
    String url = "http://" + upstream.hostPort() + "/ip";
    upstream.close();

    assertThat(Http.get(url).status()).isEqualTo(Http.NO_RESPONSE);
  }

  @Test
  void nodeWithMissingJarFailsFastNamingTheJar() {
    Path jar = tmp.resolve("no-such-ballast.jar");
    BallastNode node = new BallastNode("cp", jar, tmp.resolve("cp"), FreePorts.next(), "x: 1\n");

    assertThatThrownBy(node::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no-such-ballast.jar")
        .hasMessageContaining("does not exist");
    assertThat(node.isAlive()).isFalse();
    assertThat(tmp.resolve("cp/config.yaml")).hasContent("x: 1");
  }

  @Test
  void processThatExitsIsReportedWithItsLogTail() {
    Path dir = tmp.resolve("short-lived");
    process = JavaProcess.start("short-lived", dir, dir.resolve("node.log"), List.of("-version"));
    String readyUrl = "http://127.0.0.1:" + FreePorts.next() + "/status/ready";

    assertThatThrownBy(() -> process.awaitHttpOk(readyUrl, Duration.ofSeconds(30)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("short-lived")
        .hasMessageContaining("exited with code 0")
        .hasMessageContaining("node.log")
        // `java -version` prints e.g. `openjdk version "17.0.15"` on stderr, redirected to the log
        .hasMessageContaining(" version \"");
    assertThat(process.logTail(50)).anySatisfy(line -> assertThat(line).contains("harness starts"));
  }

  @Test
  void processThatNeverAnswersTimesOutWithItsLogTailAndKillLeavesNothingRunning()
      throws IOException {
    Path dir = tmp.resolve("silent");
    process =
        JavaProcess.start(
            "silent", dir, dir.resolve("node.log"), List.of(writeSilentProgram(dir).toString()));
    String readyUrl = "http://127.0.0.1:" + FreePorts.next() + "/status/ready";

    assertThatThrownBy(() -> process.awaitHttpOk(readyUrl, Duration.ofMillis(300)))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("did not answer 200")
        .hasMessageContaining("no response")
        .hasMessageContaining("harness starts silent");
    assertThat(pids(ProcessRegistry.running())).contains(process.pid());

    process.kill();

    assertThat(process.isAlive()).isFalse();
    assertThat(pids(ProcessRegistry.running())).doesNotContain(process.pid());
  }

  /** A single-file Java program (run from source) that stays alive for a minute and says so. */
  private static Path writeSilentProgram(Path dir) throws IOException {
    Files.createDirectories(dir);
    return Files.writeString(
        dir.resolve("Silent.java"),
        """
        public class Silent {
          public static void main(String[] args) throws Exception {
            System.out.println("silent: up, not listening");
            Thread.sleep(60_000);
          }
        }
        """);
  }

  private static List<Long> pids(Set<Process> processes) {
    return processes.stream().map(Process::pid).toList();
  }
}
