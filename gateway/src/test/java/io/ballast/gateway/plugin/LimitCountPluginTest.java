package io.ballast.gateway.plugin;

import static io.ballast.gateway.plugin.PluginTesting.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import io.ballast.resource.Fields;
import io.ballast.resource.Plugins;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import java.nio.charset.StandardCharsets;
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

class LimitCountPluginTest {

  private final AtomicLong clock = new AtomicLong(TimeUnit.HOURS.toNanos(5));

  private PluginCompiler compiler(PluginState previous) {
    return new PluginCompiler(
        PluginRegistry.of(List.of(new LimitCountPlugin.Factory(clock::get))),
        previous,
        Map.<String, ObjectNode>of());
  }

  private static LimitCountPlugin plugin(PluginCompiler compiler, String route, String config) {
    PluginChain chain =
        compiler.compile(
            Plugins.parse(
                json("{'limit-count': " + config + "}"), new Fields("route '" + route + "'")),
            new Fields("route '" + route + "'"));
    return (LimitCountPlugin) chain.get(0).plugin();
  }

  private LimitCountPlugin plugin(String config) {
    return plugin(compiler(PluginState.empty()), "r1", config);
  }

  private static Exchange from(String address, String... headers) {
    return PluginTesting.exchange(TestRouteRequest.get("/").from(address), null, headers);
  }

  /** Runs the access phase and the response head; the head's status says what the client got. */
  private static ResponseHead send(LimitCountPlugin plugin, Exchange exchange) {
    Outcome outcome = plugin.access(exchange);
    ResponseHead head =
        outcome.reply() == null
            ? new ResponseHead(200, new DefaultHttpHeaders(), true)
            : new ResponseHead(outcome.reply().status(), outcome.reply().headers(), false);
    plugin.responseHead(exchange, head);
    return head;
  }

  private static int status(LimitCountPlugin plugin, Exchange exchange) {
    Reply reply = plugin.access(exchange).reply();
    return reply == null ? 200 : reply.status();
  }

  private void advanceSeconds(long seconds) {
    clock.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
  }

  @Test
  void allowsCountRequestsThenRejectsWith503AndQuotaHeaders() {
    LimitCountPlugin plugin = plugin("{'count': 2, 'time_window': 60}");

    ResponseHead first = send(plugin, from("10.0.0.1"));
    advanceSeconds(10);
    ResponseHead second = send(plugin, from("10.0.0.1"));
    ResponseHead third = send(plugin, from("10.0.0.1"));

    assertThat(first.status()).isEqualTo(200);
    assertThat(first.headers().get("X-RateLimit-Limit")).isEqualTo("2");
    assertThat(first.headers().get("X-RateLimit-Remaining")).isEqualTo("1");
    assertThat(first.headers().get("X-RateLimit-Reset")).isEqualTo("60");
    assertThat(second.status()).isEqualTo(200);
    assertThat(second.headers().get("X-RateLimit-Remaining")).isEqualTo("0");
    assertThat(second.headers().get("X-RateLimit-Reset")).isEqualTo("50");
    assertThat(third.status()).isEqualTo(503);
    assertThat(third.headers().get("X-RateLimit-Limit")).isEqualTo("2");
    assertThat(third.headers().get("X-RateLimit-Remaining")).isEqualTo("0");
    assertThat(third.headers().get("X-RateLimit-Reset")).isEqualTo("50");
  }

  @Test
  void rejectsWithTheConfiguredCodeAndErrorMessage() {
    LimitCountPlugin plugin =
        plugin(
            "{'count': 1, 'time_window': 60, 'rejected_code': 429, 'rejected_msg': 'slow down'}");
    plugin.access(from("10.0.0.1"));

    Reply reply = plugin.access(from("10.0.0.1")).reply();

    assertThat(reply.status()).isEqualTo(429);
    assertThat(new String(reply.body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"error_msg\":\"slow down\"}");
  }

  @Test
  void withoutAMessageTheRejectionHasNoBody() {
    LimitCountPlugin plugin = plugin("{'count': 1, 'time_window': 60}");
    plugin.access(from("10.0.0.1"));

    Reply reply = plugin.access(from("10.0.0.1")).reply();

    assertThat(reply.status()).isEqualTo(503);
    assertThat(reply.body()).isEmpty();
  }

  @Test
  void theWindowStartsAtTheKeysFirstRequest() {
    LimitCountPlugin plugin = plugin("{'count': 1, 'time_window': 60}");
    advanceSeconds(30);
    assertThat(status(plugin, from("10.0.0.1"))).isEqualTo(200);
    advanceSeconds(59);
    assertThat(status(plugin, from("10.0.0.1"))).isEqualTo(503);
    advanceSeconds(1);
    assertThat(status(plugin, from("10.0.0.1"))).isEqualTo(200);
  }

  @Test
  void countsEachClientAddressApartByDefault() {
    LimitCountPlugin plugin = plugin("{'count': 1, 'time_window': 60}");
    assertThat(status(plugin, from("10.0.0.1"))).isEqualTo(200);
    assertThat(status(plugin, from("10.0.0.2"))).isEqualTo(200);
    assertThat(status(plugin, from("10.0.0.1"))).isEqualTo(503);
  }

  @Test
  void aVariableKeyCountsByItsValueAndFallsBackToTheAddress() {
    LimitCountPlugin plugin = plugin("{'count': 1, 'time_window': 60, 'key': 'http_x_user'}");
    assertThat(status(plugin, from("10.0.0.1", "X-User", "alice"))).isEqualTo(200);
    assertThat(status(plugin, from("10.0.0.2", "X-User", "alice"))).isEqualTo(503);
    assertThat(status(plugin, from("10.0.0.2", "X-User", "bob"))).isEqualTo(200);
    assertThat(status(plugin, from("10.0.0.3"))).isEqualTo(200);
    assertThat(status(plugin, from("10.0.0.3"))).isEqualTo(503);
  }

  @Test
  void aVariableCombinationCountsByAllItsValues() {
    LimitCountPlugin plugin =
        plugin(
            "{'count': 1, 'time_window': 60, 'key_type': 'var_combination',"
                + " 'key': '$remote_addr ${http_x_user}'}");
    assertThat(status(plugin, from("10.0.0.1", "X-User", "alice"))).isEqualTo(200);
    assertThat(status(plugin, from("10.0.0.1", "X-User", "bob"))).isEqualTo(200);
    assertThat(status(plugin, from("10.0.0.2", "X-User", "alice"))).isEqualTo(200);
    assertThat(status(plugin, from("10.0.0.1", "X-User", "alice"))).isEqualTo(503);
  }

  @Test
  void aConstantKeyCountsEveryClientTogether() {
    LimitCountPlugin plugin =
        plugin("{'count': 2, 'time_window': 60, 'key_type': 'constant', 'key': 'all'}");
    assertThat(status(plugin, from("10.0.0.1"))).isEqualTo(200);
    assertThat(status(plugin, from("10.0.0.2"))).isEqualTo(200);
    assertThat(status(plugin, from("10.0.0.3"))).isEqualTo(503);
  }

  @Test
  void quotaHeadersCanBeTurnedOff() {
    LimitCountPlugin plugin =
        plugin("{'count': 1, 'time_window': 60, 'show_limit_quota_header': false}");
    ResponseHead allowed = send(plugin, from("10.0.0.1"));
    ResponseHead rejected = send(plugin, from("10.0.0.1"));

    assertThat(allowed.headers().contains("X-RateLimit-Limit")).isFalse();
    assertThat(rejected.status()).isEqualTo(503);
    assertThat(rejected.headers().contains("X-RateLimit-Remaining")).isFalse();
  }

  @Test
  void eachRouteHasItsOwnCounterUnlessTheyShareAGroup() {
    PluginCompiler compiler = compiler(PluginState.empty());
    LimitCountPlugin r1 = plugin(compiler, "r1", "{'count': 1, 'time_window': 60}");
    LimitCountPlugin r2 = plugin(compiler, "r2", "{'count': 1, 'time_window': 60}");
    LimitCountPlugin g1 = plugin(compiler, "r3", "{'count': 1, 'time_window': 60, 'group': 'g'}");
    LimitCountPlugin g2 = plugin(compiler, "r4", "{'count': 1, 'time_window': 60, 'group': 'g'}");

    assertThat(status(r1, from("10.0.0.1"))).isEqualTo(200);
    assertThat(status(r2, from("10.0.0.1"))).isEqualTo(200);
    assertThat(status(g1, from("10.0.0.1"))).isEqualTo(200);
    assertThat(status(g2, from("10.0.0.1"))).isEqualTo(503);
  }

  @Test
  void aGroupConfiguredTwoWaysIsRefused() {
    PluginCompiler compiler = compiler(PluginState.empty());
    plugin(compiler, "r1", "{'count': 1, 'time_window': 60, 'group': 'g'}");

    assertThatThrownBy(
            () -> plugin(compiler, "r2", "{'count': 2, 'time_window': 60, 'group': 'g'}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "route 'r2': plugins.limit-count.group: group 'g' is configured differently by"
                + " route 'r1'; every limit-count of a group needs the same settings");
  }

  @Test
  void aSwapThatKeepsTheRoutesSettingsKeepsItsCounts() {
    PluginCompiler first = compiler(PluginState.empty());
    LimitCountPlugin before = plugin(first, "r1", "{'count': 3, 'time_window': 60}");
    send(before, from("10.0.0.1"));
    send(before, from("10.0.0.1"));

    LimitCountPlugin kept =
        plugin(compiler(first.state()), "r1", "{'count': 3, 'time_window': 60}");
    LimitCountPlugin changed =
        plugin(compiler(first.state()), "r1", "{'count': 4, 'time_window': 60}");

    assertThat(send(kept, from("10.0.0.1")).headers().get("X-RateLimit-Remaining")).isEqualTo("0");
    assertThat(send(changed, from("10.0.0.1")).headers().get("X-RateLimit-Remaining"))
        .isEqualTo("3");
  }

  @Test
  void runsInTheAccessPhaseThroughTheRunner() {
    PluginTesting.Config config =
        PluginTesting.config().route("{'limit-count': {'count': 1, 'time_window': 60}}");
    PluginRunner runner = config.runner();
    Exchange first = from("10.0.0.1");
    assertThat(runner.request(first).block()).isNull();
    assertThat(PluginTesting.respond(runner, first, 200).headers().get("X-RateLimit-Remaining"))
        .isEqualTo("0");

    assertThat(config.runner().request(from("10.0.0.1")).block().status()).isEqualTo(503);
  }

  @Test
  void aConsumersLimitCountsEachRouteApart() {
    PluginTesting.Config config =
        PluginTesting.config(
            "{'username': 'jack', 'plugins': {'limit-count': {'count': 1, 'time_window': 60}}}");
    Consumer jack = config.consumers.get("jack").orElseThrow();
    LimitCountPlugin plugin = (LimitCountPlugin) jack.plugins().get(0).plugin();

    assertThat(status(plugin, onRoute("r1", jack))).isEqualTo(200);
    assertThat(status(plugin, onRoute("r2", jack))).isEqualTo(200);
    assertThat(status(plugin, onRoute("r1", jack))).isEqualTo(503);
  }

  private static Exchange onRoute(String routeId, Consumer consumer) {
    TestRouteRequest request = TestRouteRequest.get("/").from("10.0.0.1");
    Exchange exchange =
        new Exchange(request, "/", "http", new DefaultHttpHeaders(), routeId, null, 0);
    exchange.consumer(consumer);
    return exchange;
  }

  @Test
  void endedWindowsExpireAndLiveKeysAreBounded() {
    LimitCountPlugin plugin = plugin("{'count': 1, 'time_window': 60}");
    for (int i = 0; i < 1000; i++) {
      plugin.access(from("10.1." + (i / 256) + "." + (i % 256)));
    }
    assertThat(plugin.keysHeld()).isEqualTo(1000);

    advanceSeconds(60);
    plugin.access(from("10.0.0.1"));
    assertThat(plugin.keysHeld()).isEqualTo(1);

    for (int i = 0; i < LimitCountPlugin.MAX_KEYS + 10; i++) {
      plugin.access(from(address(i)));
    }
    assertThat(plugin.keysHeld()).isLessThanOrEqualTo(LimitCountPlugin.MAX_KEYS);
  }

  @Test
  void aFloodOfNewKeysDoesNotResetAClientThatKeepsComing() {
    LimitCountPlugin plugin = plugin("{'count': 10, 'time_window': 60}");
    int key = 0;
    for (; key < LimitCountPlugin.MAX_KEYS / 2; key++) {
      plugin.access(from(address(key)));
    }
    for (int i = 0; i < 20; i++) {
      plugin.access(from("192.168.0.1"));
    }
    for (int end = key + LimitCountPlugin.MAX_KEYS; key < end; key++) {
      plugin.access(from(address(key)));
    }

    assertThat(plugin.keysHeld()).isLessThanOrEqualTo(LimitCountPlugin.MAX_KEYS);
    assertThat(status(plugin, from("192.168.0.1"))).isEqualTo(503);
  }

  private static String address(int i) {
    return "10." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255);
  }

  @Test
  void concurrentRequestsAreCountedExactly() throws Exception {
    LimitCountPlugin plugin = plugin("{'count': 1000, 'time_window': 60}");
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
                if (plugin.access(from("10.0.0.1")).reply() == null) {
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
      assertThat(allowed).isEqualTo(1000);
    } finally {
      pool.shutdownNow();
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{'time_window': 60} | count: is required",
        "{'count': 0, 'time_window': 60} | count:",
        "{'count': '5', 'time_window': 60} | count:",
        "{'count': 1.5, 'time_window': 60} | count:",
        "{'count': 1} | time_window: is required",
        "{'count': 1, 'time_window': 0} | time_window:",
        "{'count': 1, 'time_window': 60, 'key_type': 'vars'} | key_type: 'vars' is not one of",
        "{'count': 1, 'time_window': 60, 'key': 'nope'} | key: 'nope' is not a variable",
        "{'count': 1, 'time_window': 60, 'key': ''} | key: must not be empty",
        "{'count': 1, 'time_window': 60, 'key_type': 'var_combination', 'key': 'x'}"
            + " | key: must name at least one variable",
        "{'count': 1, 'time_window': 60, 'key_type': 'var_combination', 'key': '$nope'}"
            + " | key: '$nope' is not a variable",
        "{'count': 1, 'time_window': 60, 'rejected_code': 600} | rejected_code:",
        "{'count': 1, 'time_window': 60, 'rejected_code': 199} | rejected_code:",
        "{'count': 1, 'time_window': 60, 'rejected_msg': ''} | rejected_msg: must not be empty",
        "{'count': 1, 'time_window': 60, 'policy': 'redis'} | policy: 'redis' is not supported",
        "{'count': 1, 'time_window': 60, 'policy': 'redis-cluster'}"
            + " | policy: 'redis-cluster' is not supported",
        "{'count': 1, 'time_window': 60, 'policy': 'other'} | policy: 'other' is not one of",
        "{'count': 1, 'time_window': 60, 'redis_host': 'r'} | redis_host: is not supported",
        "{'count': 1, 'time_window': 60, 'show_limit_quota_header': 'yes'}"
            + " | show_limit_quota_header: must be true or false",
        "{'count': 1, 'time_window': 60, 'allow_degradation': 1} | allow_degradation: must be",
        "{'count': 1, 'time_window': 60, 'window_type': 'sliding'} | window_type: 'sliding' is not"
            + " supported",
        "{'count': 1, 'time_window': 60, 'group': ''} | group: must not be empty",
        "{'count': 1, 'time_window': 60, 'burst': 1} | burst: is not a field of limit-count",
      })
  void refusesBadValuesNamingTheField(String config, String problem) {
    assertThatThrownBy(() -> plugin(config))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("route 'r1': plugins.limit-count.")
        .hasMessageContaining(problem);
  }

  @Test
  void aRefusedRedisPasswordIsNotRepeated() {
    assertThatThrownBy(
            () -> plugin("{'count': 1, 'time_window': 60, 'redis_password': 'hunter2secret'}"))
        .hasMessageContaining("redis_password")
        .hasMessageNotContaining("hunter2secret");
  }
}
