package io.ballast.gateway.plugin;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * APISIX's {@code response-rewrite}: when its {@code vars} hold, changes the status, replaces the
 * body and adds, sets and removes headers of the response, whether the upstream or a plugin sent it
 * (APISIX runs header_filter and body_filter for both). Body {@code filters} (regex substitution)
 * are not supported yet and are refused.
 */
final class ResponseRewritePlugin implements Plugin {

  /** Headers that describe the original body, which APISIX clears when it replaces it. */
  private static final List<String> BODY_HEADERS =
      List.of("ETag", "Last-Modified", "Content-Encoding");

  private record Header(String name, VariableTemplate value) {}

  private final ResponseVars vars;
  private final int statusCode;
  private final byte[] body;
  private final List<Header> add;
  private final List<Header> set;
  private final List<String> remove;

  private ResponseRewritePlugin(
      ResponseVars vars,
      int statusCode,
      byte[] body,
      List<Header> add,
      List<Header> set,
      List<String> remove) {
    this.vars = vars;
    this.statusCode = statusCode;
    this.body = body;
    this.add = add;
    this.set = set;
    this.remove = remove;
  }

  @Override
  public void responseHead(Exchange exchange, ResponseHead response) {
    if (vars != null && !vars.matches(exchange, response)) {
      return;
    }
    if (statusCode != 0) {
      response.status(statusCode);
    }
    if (body != null) {
      BODY_HEADERS.forEach(response.headers()::remove);
      // Shared by every response; ResponseHead only reads it.
      response.replaceBody(body);
    }
    Function<String, String> variables = name -> variable(name, exchange, response);
    for (Header header : add) {
      response.headers().add(header.name, header.value.resolve(variables, null));
    }
    for (Header header : set) {
      response.headers().set(header.name, header.value.resolve(variables, null));
    }
    remove.forEach(response.headers()::remove);
  }

  /** Whether {@link #variable} knows {@code name}: a request variable, or {@code status}. */
  static boolean isVariable(String name) {
    return name.equals("status") || Exchange.isVariable(name);
  }

  /** A variable's value while the response head is sent, or {@code null} when it has none. */
  static String variable(String name, Exchange exchange, ResponseHead response) {
    return name.equals("status") ? Integer.toString(response.status()) : exchange.variable(name);
  }

  static final class Factory implements PluginFactory {

    // RFC 9110 token characters.
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+");
    // APISIX's form for headers.add, "Name: value" with no colon in the value, as its schema
    // checks it and then as it splits it.
    private static final Pattern ADD_SCHEMA = Pattern.compile("^[^:]+:[^:]+[^/]$");
    private static final Pattern ADD_ENTRY = Pattern.compile("^([^:\\s]+)\\s*:\\s*([^:]+)$");

    @Override
    public String name() {
      return "response-rewrite";
    }

    @Override
    public int priority() {
      return 899;
    }

    @Override
    public Plugin compile(PluginConfig config, PluginContext context) {
      config.allowOnly("status_code", "body", "body_base64", "headers", "vars", "filters");
      if (config.has("filters")) {
        throw config.invalid(
            "filters", "is not supported by Ballast yet (regex body substitution); use body");
      }
      int statusCode = config.has("status_code") ? config.integer("status_code", 200, 598, 0) : 0;
      byte[] body = body(config);
      List<Header> add = new ArrayList<>();
      List<Header> set = new ArrayList<>();
      List<String> remove = new ArrayList<>();
      headers(config, add, set, remove);
      ResponseVars vars = config.has("vars") ? ResponseVars.compile(config) : null;
      return new ResponseRewritePlugin(
          vars, statusCode, body, List.copyOf(add), List.copyOf(set), List.copyOf(remove));
    }

    private static byte[] body(PluginConfig config) {
      boolean base64 = config.bool("body_base64", false);
      String body = config.string("body", null);
      if (!base64) {
        return body == null ? null : body.getBytes(StandardCharsets.UTF_8);
      }
      if (body == null || body.isEmpty()) {
        throw config.invalid("body", "is required, not empty, when body_base64 is true");
      }
      try {
        return Base64.getDecoder().decode(body.strip());
      } catch (IllegalArgumentException e) {
        throw config.invalid("body", "is not valid base64 (body_base64 is true)");
      }
    }

    /** APISIX 3.x's {add, set, remove}, or the older flat object, which means set. */
    private static void headers(
        PluginConfig config, List<Header> add, List<Header> set, List<String> remove) {
      PluginConfig headers = config.object("headers");
      if (headers == null) {
        return;
      }
      boolean operations =
          isArray(headers.get("add"))
              || isObject(headers.get("set"))
              || isArray(headers.get("remove"));
      if (!operations) {
        set.addAll(setHeaders(config, "headers"));
        return;
      }
      headers.allowOnly("add", "set", "remove");
      if (headers.has("set")) {
        set.addAll(setHeaders(headers, "set"));
      }
      if (headers.has("add")) {
        List<String> entries = nonEmptyStrings(headers, "add");
        for (int i = 0; i < entries.size(); i++) {
          String key = "add[" + i + "]";
          Matcher m = ADD_ENTRY.matcher(entries.get(i));
          if (!ADD_SCHEMA.matcher(entries.get(i)).matches() || !m.matches()) {
            throw headers.invalid(key, "must be \"Name: value\" (the value without ':')");
          }
          add.add(
              new Header(headerName(headers, key, m.group(1)), value(headers, key, m.group(2))));
        }
      }
      if (headers.has("remove")) {
        List<String> names = nonEmptyStrings(headers, "remove");
        for (int i = 0; i < names.size(); i++) {
          remove.add(headerName(headers, "remove[" + i + "]", names.get(i)));
        }
      }
    }

    private static List<Header> setHeaders(PluginConfig config, String key) {
      Map<String, String> values = config.stringMap(key);
      if (values.isEmpty()) {
        throw config.invalid(key, "must name at least one header");
      }
      List<Header> headers = new ArrayList<>();
      values.forEach(
          (name, value) -> {
            String field = key + "." + name;
            headers.add(new Header(headerName(config, field, name), value(config, field, value)));
          });
      return headers;
    }

    private static List<String> nonEmptyStrings(PluginConfig config, String key) {
      List<String> values = config.strings(key, List.of());
      if (values.isEmpty()) {
        throw config.invalid(key, "must not be empty");
      }
      return values;
    }

    private static String headerName(PluginConfig config, String key, String name) {
      if (!HEADER_NAME.matcher(name).matches()) {
        throw config.invalid(key, "'" + name + "' is not a valid header name");
      }
      return name;
    }

    private static VariableTemplate value(PluginConfig config, String key, String value) {
      if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0) {
        throw config.invalid(key, "must not contain a line break");
      }
      return VariableTemplate.compile(value, ResponseRewritePlugin::isVariable, -1, config, key);
    }

    private static boolean isArray(JsonNode node) {
      return node != null && node.isArray();
    }

    private static boolean isObject(JsonNode node) {
      return node != null && node.isObject();
    }
  }
}
