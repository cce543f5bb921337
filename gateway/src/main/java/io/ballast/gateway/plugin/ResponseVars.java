package io.ballast.gateway.plugin;

import io.ballast.resource.Fields;
import io.ballast.resource.RequestVariable;
import io.ballast.resource.Vars;
import java.util.List;

/**
 * response-rewrite's {@code vars}, which APISIX evaluates while the response head is sent: besides
 * request variables they may read the response's {@code status} and the gateway's variables such as
 * {@code route_id} or {@code consumer_name}. The expressions are lua-resty-expr's, as a route's
 * {@code vars} are ({@link Vars}); only the variables differ.
 */
final class ResponseVars {

  /**
   * A variable an expression reads: a request variable (all of whose values {@code has} sees), or
   * another one by name, read through {@link ResponseRewritePlugin#variable}.
   */
  private record Variable(RequestVariable request, String name) {

    static Variable of(String name) {
      RequestVariable request = RequestVariable.of(name);
      if (request != null) {
        return new Variable(request, name);
      }
      return ResponseRewritePlugin.isVariable(name) ? new Variable(null, name) : null;
    }
  }

  /** The variables of one exchange, as its response head is sent. */
  private record Lookup(Exchange exchange, ResponseHead response) implements Vars.Lookup<Variable> {

    @Override
    public String value(Variable variable) {
      return variable.request() != null
          ? exchange.request().value(variable.request())
          : ResponseRewritePlugin.variable(variable.name(), exchange, response);
    }

    @Override
    public List<String> values(Variable variable) {
      if (variable.request() != null) {
        return exchange.request().values(variable.request());
      }
      String value = value(variable);
      return value == null ? List.of() : List.of(value);
    }
  }

  private final Vars<Variable> vars;

  private ResponseVars(Vars<Variable> vars) {
    this.vars = vars;
  }

  boolean matches(Exchange exchange, ResponseHead response) {
    return vars.matches(new Lookup(exchange, response));
  }

  /**
   * Compiles {@code config}'s {@code vars}; failures name the expression, e.g. {@code
   * plugins.response-rewrite.vars[1][0]}.
   */
  static ResponseVars compile(PluginConfig config) {
    return new ResponseVars(
        Vars.parse(
            config.get("vars"),
            new Fields(config.owner()),
            config.path("vars"),
            Variable::of,
            "use a request variable (arg_*, http_*, cookie_*, uri, host, remote_addr,"
                + " request_method), status, route_id, service_id, consumer_name, scheme or"
                + " request_uri"));
  }
}
