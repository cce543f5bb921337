package io.ballast.gateway.plugin;

import io.ballast.gateway.http.TestRouteRequest;
import io.ballast.resource.Fields;
import io.ballast.resource.Plugins;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Plugin tests without a network: compile plugins as a configuration would, run a request through
 * them and look at the reply, the upstream request or the response head.
 */
final class PluginTesting {

  static final JsonMapper JSON = JsonMapper.builder().build();

  private PluginTesting() {}

  /** JSON written with single quotes, for readable tests. */
  static ObjectNode json(String singleQuoted) {
    return (ObjectNode) JSON.readTree(singleQuoted.replace('\'', '"'));
  }

  /** A compiled configuration: consumers, global rules and one route's plugins. */
  static final class Config {
    final PluginCompiler compiler;
    final Consumers consumers;
    PluginChain global = PluginChain.EMPTY;
    PluginChain route = PluginChain.EMPTY;

    private Config(PluginCompiler compiler, Consumers consumers) {
      this.compiler = compiler;
      this.consumers = consumers;
    }

    /** Compiles {@code plugins} (a JSON object) as route 'r1''s plugins. */
    Config route(String plugins) {
      Fields fields = new Fields("route 'r1'");
      route = compiler.compile(Plugins.parse(json(plugins), fields), fields);
      return this;
    }

    /** Compiles {@code plugins} as global rule 'g1''s plugins. */
    Config global(String plugins) {
      Fields fields = new Fields("global_rule 'g1'");
      global = compiler.compile(Plugins.parse(json(plugins), fields), fields);
      return this;
    }

    /** Runs the request phases; the reply, or {@code null} when the request goes upstream. */
    Reply run(Exchange exchange) {
      return runner().request(exchange).block(Duration.ofSeconds(10));
    }

    PluginRunner runner() {
      return new PluginRunner(global, route);
    }
  }

  /**
   * A configuration with {@code consumers}, each a consumer resource written as JSON with its
   * {@code username}, compiled against {@code previous} state.
   */
  static Config config(PluginState previous, String... consumers) {
    PluginCompiler compiler =
        new PluginCompiler(PluginRegistry.standard(), previous, Map.<String, ObjectNode>of());
    List<Resource> resources = new ArrayList<>();
    for (String consumer : consumers) {
      ObjectNode value = json(consumer);
      resources.add(
          Resource.parse(ResourceType.CONSUMERS, value.get("username").asString(), value));
    }
    return new Config(compiler, compiler.compileConsumers(resources));
  }

  static Config config(String... consumers) {
    return config(PluginState.empty(), consumers);
  }

  /**
   * An exchange for {@code request} on route 'r1': its upstream headers start as the request's
   * headers named in {@code headers} (name, value, name, value...).
   */
  static Exchange exchange(TestRouteRequest request, String query, String... headers) {
    HttpHeaders upstream = new DefaultHttpHeaders();
    for (int i = 0; i < headers.length; i += 2) {
      request.header(headers[i], headers[i + 1]);
      upstream.add(headers[i], headers[i + 1]);
    }
    String uri = query == null ? request.path() : request.path() + "?" + query;
    return new Exchange(request, uri, "http", upstream, "r1", null, System.nanoTime());
  }

  /** Runs the response-head phase over a response of {@code status} from the upstream. */
  static ResponseHead respond(PluginRunner runner, Exchange exchange, int status) {
    ResponseHead head = new ResponseHead(status, new DefaultHttpHeaders(), true);
    runner.responseHead(exchange, head);
    return head;
  }
}
