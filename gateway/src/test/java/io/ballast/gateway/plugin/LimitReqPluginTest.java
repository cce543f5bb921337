package io.ballast.gateway.plugin;

import static io.ballast.gateway.plugin.PluginTesting.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import io.ballast.resource.Fields;
import io.ballast.resource.Plugins;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.node.ObjectNode;

class LimitReqPluginTest {

  private final AtomicLong clock = new AtomicLong(TimeUnit.HOURS.toNanos(5));

  private PluginCompiler compiler(PluginState previous) {
    return new PluginCompiler(
        PluginRegistry.of(List.of(new LimitReqPlugin.Factory(clock::get))),
        previous,
        Map.<String, ObjectNode>of());
  }

  private static LimitReqPlugin plugin(PluginCompiler compiler, String config) {
    PluginChain chain =
        compiler.compile(
            Plugins.parse(json("{'limit-req': " + config + "}"), new Fields("route 'r1'")),
            new Fields("route 'r1'"));
    return (LimitReqPlugin) chain.get(0).plugin();
  }

  private LimitReqPlugin plugin(String config) {
    return plugin(compiler(PluginState.empty()), config);
  }

  private static Exchange from(String address, String... headers) {
    return PluginTesting.exchange(TestRouteRequest.get("/").from(address), null, headers);
  }

  private void advanceMillis(long millis) {
    clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
  }

  private static Outcome send(LimitReqPlugin plugin) {
    return plugin.access(from("10.0.0.1"));
  }

  private static Outcome proceeds() {
    return Outcome.proceed();
  }

  @Test
  void delaysTheBurstToTheRateAndRejectsBeyondIt() {
    LimitReqPlugin plugin = plugin("{'rate': 1, 'burst': 1, 'key': 'remote_addr'}");

    assertThat(send(plugin)).isSameAs(proceeds());
    assertThat(send(plugin).delay()).isEqualTo(Duration.ofSeconds(1));
    assertThat(send(plugin).reply().status()).isEqualTo(503);

    advanceMillis(1000);
    assertThat(send(plugin).delay()).isEqualTo(Duration.ofSeconds(1));
    advanceMillis(2000);
    assertThat(send(plugin)).isSameAs(proceeds());
  }

  @Test
  void theDelayIsTheExcessOverTheRate() {
    LimitReqPlugin plugin = plugin("{'rate': 4, 'burst': 3, 'key': 'remote_addr'}");
    send(plugin);

    assertThat(send(plugin).delay()).isEqualTo(Duration.ofMillis(250));
    assertThat(send(plugin).delay()).isEqualTo(Duration.ofMillis(500));
    advanceMillis(250);
    assertThat(send(plugin).delay()).isEqualTo(Duration.ofMillis(500));
  }

  @Test
  void nodelayLetsTheBurstThroughAtOnce() {
    LimitReqPlugin plugin =
        plugin("{'rate': 1, 'burst': 1, 'key': 'remote_addr', 'nodelay': true}");

    assertThat(send(plugin)).isSameAs(proceeds());
    assertThat(send(plugin)).isSameAs(proceeds());
    assertThat(send(plugin).reply().status()).isEqualTo(503);
  }

  @Test
  void aFractionalRateDrainsSlowly() {
    LimitReqPlugin plugin = plugin("{'rate': 0.5, 'burst': 0, 'key': 'remote_addr'}");

    assertThat(send(plugin)).isSameAs(proceeds());
    advanceMillis(1000);
    assertThat(send(plugin).reply()).isNotNull();
    advanceMillis(1000);
    assertThat(send(plugin)).isSameAs(proceeds());
  }

  @Test
  void rejectedRequestsDoNotFillTheBucket() {
    LimitReqPlugin plugin = plugin("{'rate': 1, 'burst': 0, 'key': 'remote_addr'}");
    send(plugin);
    for (int i = 0; i < 5; i++) {
      assertThat(send(plugin).reply()).isNotNull();
    }
    advanceMillis(1000);
    assertThat(send(plugin)).isSameAs(proceeds());
  }

  @Test
  void rejectsWithTheConfiguredCodeAndErrorMessage() {
    LimitReqPlugin plugin =
        plugin(
            "{'rate': 1, 'burst': 0, 'key': 'remote_addr', 'rejected_code': 429,"
                + " 'rejected_msg': 'too many'}");
    send(plugin);

    Reply reply = send(plugin).reply();

    assertThat(reply.status()).isEqualTo(429);
    assertThat(new String(reply.body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"error_msg\":\"too many\"}");
  }

  @Test
  void eachKeyHasItsOwnBucket() {
    LimitReqPlugin plugin =
        plugin(
            "{'rate': 1, 'burst': 0, 'key_type': 'var_combination',"
                + " 'key': '$remote_addr:$http_x_user'}");

    assertThat(plugin.access(from("10.0.0.1", "X-User", "a"))).isSameAs(proceeds());
    assertThat(plugin.access(from("10.0.0.1", "X-User", "b"))).isSameAs(proceeds());
    assertThat(plugin.access(from("10.0.0.2", "X-User", "a"))).isSameAs(proceeds());
    assertThat(plugin.access(from("10.0.0.1", "X-User", "a")).reply()).isNotNull();
  }

  @Test
  void aSwapThatKeepsTheSettingsKeepsTheBuckets() {
    PluginCompiler first = compiler(PluginState.empty());
    send(plugin(first, "{'rate': 1, 'burst': 0, 'key': 'remote_addr'}"));

    LimitReqPlugin kept =
        plugin(compiler(first.state()), "{'rate': 1, 'burst': 0, 'key': 'remote_addr'}");
    LimitReqPlugin changed =
        plugin(compiler(first.state()), "{'rate': 2, 'burst': 0, 'key': 'remote_addr'}");

    assertThat(send(kept).reply()).isNotNull();
    assertThat(send(changed)).isSameAs(proceeds());
  }

  @Test
  void rejectsThroughTheRunner() {
    PluginTesting.Config config =
        PluginTesting.config()
            .route("{'limit-req': {'rate': 1, 'burst': 0, 'key': 'remote_addr', 'nodelay': true}}");
    assertThat(config.run(from("10.0.0.9"))).isNull();
    assertThat(config.run(from("10.0.0.9")).status()).isEqualTo(503);
  }

  @Test
  void drainedBucketsExpire() {
    LimitReqPlugin plugin = plugin("{'rate': 10, 'burst': 5, 'key': 'remote_addr'}");
    for (int i = 0; i < 1000; i++) {
      plugin.access(from("10.1." + (i / 256) + "." + (i % 256)));
    }
    assertThat(plugin.keysHeld()).isEqualTo(1000);

    advanceMillis(1000);
    plugin.access(from("10.0.0.1"));
    assertThat(plugin.keysHeld()).isEqualTo(1);
  }

  @Test
  void concurrentRequestsAreCountedExactly() throws Exception {
    LimitReqPlugin plugin =
        plugin("{'rate': 1, 'burst': 999, 'key': 'remote_addr', 'nodelay': true}");
    int threads = 8;
    int perThread = 500;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Callable<Integer> task =
            () -> {
              start.await();
              int allowed = 0;
              for (int i = 0; i < perThread; i++) {
                if (send(plugin).reply() == null) {
                  allowed++;
                }
              }
              return allowed;
            };
        results.add(pool.submit(task));
      }
      start.countDown();
      int allowed = 0;
      for (Future<Integer> result : results) {
        allowed += result.get(30, TimeUnit.SECONDS);
      }
      // The first request finds an empty bucket; 999 more fill the burst.
      assertThat(allowed).isEqualTo(1000);
    } finally {
      pool.shutdownNow();
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{'burst': 1, 'key': 'remote_addr'} | rate: is required",
        "{'rate': 0, 'burst': 1, 'key': 'remote_addr'} | rate: must be > 0",
        "{'rate': -1, 'burst': 1, 'key': 'remote_addr'} | rate: must be > 0",
        "{'rate': '1', 'burst': 1, 'key': 'remote_addr'} | rate: must be a number",
        "{'rate': 1, 'key': 'remote_addr'} | burst: is required",
        "{'rate': 1, 'burst': -1, 'key': 'remote_addr'} | burst: must be >= 0",
        "{'rate': 1, 'burst': 1} | key: is required",
        "{'rate': 1, 'burst': 1, 'key': ''} | key: must not be empty",
        "{'rate': 1, 'burst': 1, 'key': 'nope'} | key: 'nope' is not a variable",
        "{'rate': 1, 'burst': 1, 'key': 'x', 'key_type': 'constant'} | key_type: 'constant' is not"
            + " one of var, var_combination",
        "{'rate': 1, 'burst': 1, 'key': 'abc', 'key_type': 'var_combination'}"
            + " | key: must name at least one variable",
        "{'rate': 1, 'burst': 1, 'key': 'remote_addr', 'rejected_code': 600} | rejected_code:",
        "{'rate': 1, 'burst': 1, 'key': 'remote_addr', 'rejected_msg': ''}"
            + " | rejected_msg: must not be empty",
        "{'rate': 1, 'burst': 1, 'key': 'remote_addr', 'nodelay': 'yes'}"
            + " | nodelay: must be true or false",
        "{'rate': 1, 'burst': 1, 'key': 'remote_addr', 'policy': 'redis'}"
            + " | policy: 'redis' is not supported",
        "{'rate': 1, 'burst': 1, 'key': 'remote_addr', 'redis_cluster_nodes': ['a']}"
            + " | redis_cluster_nodes: is not supported",
        "{'rate': 1, 'burst': 1, 'key': 'remote_addr', 'count': 1} | count: is not a field",
      })
  void refusesBadValuesNamingTheField(String config, String problem) {
    assertThatThrownBy(() -> plugin(config))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("route 'r1': plugins.limit-req.")
        .hasMessageContaining(problem);
  }
}
