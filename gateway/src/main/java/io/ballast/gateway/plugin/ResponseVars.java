package io.ballast.gateway.plugin;

import io.ballast.gateway.http.RequestVariable;
import io.ballast.gateway.http.RouteRequest;
import io.ballast.gateway.http.RouteVars;
import io.ballast.resource.Fields;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.StringNode;

/**
 * response-rewrite's {@code vars}, which APISIX evaluates while the response head is sent: besides
 * request variables they may read the response's {@code status} and the gateway's variables such as
 * {@code route_id} or {@code consumer_name}. The operators are {@link RouteVars}'s, so that
 * lua-resty-expr has one implementation: an expression on a non-request variable is compiled as one
 * on a query parameter of that name and evaluated against a view of the variables.
 */
final class ResponseVars {

  private final List<RouteVars> onRequest;
  private final List<RouteVars> onVariables;

  private ResponseVars(List<RouteVars> onRequest, List<RouteVars> onVariables) {
    this.onRequest = onRequest;
    this.onVariables = onVariables;
  }

  boolean matches(Exchange exchange, ResponseHead response) {
    for (RouteVars vars : onRequest) {
      if (!vars.matches(exchange.request())) {
        return false;
      }
    }
    if (onVariables.isEmpty()) {
      return true;
    }
    RouteRequest view = new VariableView(exchange, response);
    for (RouteVars vars : onVariables) {
      if (!vars.matches(view)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Compiles {@code config}'s {@code vars}; failures name the expression, e.g. {@code vars[1][0]}.
   */
  static ResponseVars compile(PluginConfig config) {
    JsonNode vars = config.get("vars");
    if (!vars.isArray()) {
      throw config.invalid("vars", "must be an array of [var, operator, value] expressions");
    }
    List<RouteVars> onRequest = new ArrayList<>();
    List<RouteVars> onVariables = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      String field = "vars[" + i + "]";
      JsonNode expression = vars.get(i);
      JsonNode name = expression.path(0);
      boolean onRequestVariable =
          !name.isString()
              || RequestVariable.of(name.stringValue()) != null
              || !ResponseRewritePlugin.isVariable(name.stringValue());
      if (!onRequestVariable) {
        ArrayNode renamed = ((ArrayNode) expression).deepCopy();
        renamed.set(0, StringNode.valueOf("arg_" + name.stringValue()));
        expression = renamed;
      }
      ArrayNode single = config.json().arrayNode().add(expression);
      (onRequestVariable ? onRequest : onVariables).add(compileOne(single, config, field));
    }
    return new ResponseVars(List.copyOf(onRequest), List.copyOf(onVariables));
  }

  /** Compiles a one-expression array, naming failures by the expression's place in the plugin. */
  private static RouteVars compileOne(ArrayNode single, PluginConfig config, String field) {
    try {
      return RouteVars.compile(single, new Fields(config.owner()));
    } catch (IllegalArgumentException e) {
      String compiledAs = config.owner() + ": vars[0]";
      String message = e.getMessage();
      if (message == null || !message.startsWith(compiledAs)) {
        throw e;
      }
      String rest = message.substring(compiledAs.length());
      if (rest.startsWith("[0]: unknown variable")) {
        rest =
            "[0]: unknown variable '"
                + single.get(0).get(0).stringValue()
                + "'; use a request variable (arg_*, http_*, cookie_*, uri, host, remote_addr,"
                + " request_method), status, route_id, service_id, consumer_name, scheme or"
                + " request_uri";
      }
      throw new IllegalArgumentException(config.owner() + ": " + config.path(field) + rest, e);
    }
  }

  /** The exchange's variables as query parameters, for expressions compiled by {@link #compile}. */
  private record VariableView(Exchange exchange, ResponseHead response) implements RouteRequest {

    @Override
    public List<String> queryParams(String name) {
      String value = ResponseRewritePlugin.variable(name, exchange, response);
      return value == null ? List.of() : List.of(value);
    }

    @Override
    public String method() {
      return exchange.request().method();
    }

    @Override
    public String host() {
      return exchange.request().host();
    }

    @Override
    public String path() {
      return exchange.request().path();
    }

    @Override
    public InetAddress remoteAddress() {
      return exchange.request().remoteAddress();
    }

    @Override
    public List<String> headers(String name) {
      return exchange.request().headers(name);
    }

    @Override
    public List<String> cookies(String name) {
      return exchange.request().cookies(name);
    }
  }
}
