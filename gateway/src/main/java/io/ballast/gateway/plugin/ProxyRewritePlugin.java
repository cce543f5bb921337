package io.ballast.gateway.plugin;

import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.databind.JsonNode;

/**
 * APISIX's {@code proxy-rewrite}: changes what is sent upstream — the path ({@code uri}, or else
 * the first matching pair of {@code regex_uri}; {@code uri} wins when both are set, as in APISIX),
 * the method, the Host and request headers. The client's query string is kept: appended with {@code
 * ?}, or with {@code &} when the new uri brings its own query, exactly as APISIX does.
 *
 * <p>The uri and header values may name APISIX variables ({@code $uri}, {@code ${arg_id ?? none}},
 * {@code $http_x_y}...); header values may also name {@code regex_uri}'s captures ({@code $1}),
 * empty when it did not match. regex_uri's replacements name captures only, as ngx.re.sub's do. See
 * {@link VariableTemplate}.
 */
final class ProxyRewritePlugin implements Plugin {

  /** APISIX's accepted methods. */
  private static final List<String> METHODS =
      List.of(
          "GET",
          "POST",
          "PUT",
          "HEAD",
          "DELETE",
          "OPTIONS",
          "MKCOL",
          "COPY",
          "MOVE",
          "PROPFIND",
          "LOCK",
          "UNLOCK",
          "PATCH",
          "TRACE");

  private static final Pattern HOST = Pattern.compile("[0-9a-zA-Z.-]+(:\\d{1,5})?");
  private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

  private final VariableTemplate uri;
  private final List<RegexUri> regexUri;
  private final String method;
  private final String host;
  private final Map<String, VariableTemplate> addHeaders;
  private final Map<String, VariableTemplate> setHeaders;
  private final List<String> removeHeaders;
  private final boolean realRequestUri;

  private ProxyRewritePlugin(
      VariableTemplate uri,
      List<RegexUri> regexUri,
      String method,
      String host,
      Map<String, VariableTemplate> addHeaders,
      Map<String, VariableTemplate> setHeaders,
      List<String> removeHeaders,
      boolean realRequestUri) {
    this.uri = uri;
    this.regexUri = regexUri;
    this.method = method;
    this.host = host;
    this.addHeaders = addHeaders;
    this.setHeaders = setHeaders;
    this.removeHeaders = removeHeaders;
    this.realRequestUri = realRequestUri;
  }

  @Override
  public Outcome rewrite(Exchange exchange) {
    String[] captures = rewriteUri(exchange);
    if (host != null) {
      exchange.upstreamHost(host);
    }
    // APISIX's order: add, then set, then remove.
    HttpHeaders headers = exchange.upstreamHeaders();
    addHeaders.forEach(
        (name, value) -> headers.add(name, value.resolve(exchange::variable, captures)));
    setHeaders.forEach(
        (name, value) -> {
          String resolved = value.resolve(exchange::variable, captures);
          if (name.equalsIgnoreCase("Host")) {
            exchange.upstreamHost(resolved);
          } else {
            headers.set(name, resolved);
          }
        });
    removeHeaders.forEach(headers::remove);
    if (method != null) {
      exchange.upstreamMethod(method);
    }
    return Outcome.proceed();
  }

  /** Sets the upstream uri; returns regex_uri's captures, or {@code null} when none matched. */
  private String[] rewriteUri(Exchange exchange) {
    String current = exchange.upstreamUri();
    int q = current.indexOf('?');
    String query = q < 0 ? null : current.substring(q + 1);
    String path = realRequestUri ? exchange.requestUri() : exchange.request().path();
    String[] captures = null;
    // Whether a '?' in the result starts a query the template wrote, not one the client's path
    // carried as %3F.
    boolean templateQuery = false;
    if (uri != null) {
      // As APISIX's escaper: a '?' in a value is part of the path, not the start of a query.
      path = uri.resolve(exchange::variable, null, value -> value.replace("?", "%3F"));
      templateQuery = true;
    } else {
      for (RegexUri rule : regexUri) {
        Matcher matcher = rule.pattern.matcher(path);
        if (matcher.find()) {
          captures = new String[matcher.groupCount() + 1];
          for (int g = 0; g < captures.length; g++) {
            captures[g] = matcher.group(g) == null ? "" : matcher.group(g);
          }
          templateQuery = path.indexOf('?') < 0;
          path =
              path.substring(0, matcher.start())
                  + rule.replacement.resolve(exchange::variable, captures)
                  + path.substring(matcher.end());
          break;
        }
      }
    }
    if (realRequestUri) {
      // use_real_request_uri_unsafe: sent as it is, no encoding and no query appended.
      exchange.upstreamUri(path);
      return captures;
    }
    int own = templateQuery ? path.indexOf('?') : -1;
    String encoded =
        own < 0 ? safeEncode(path) : safeEncode(path.substring(0, own)) + path.substring(own);
    if (query != null) {
      encoded += (own < 0 ? "?" : "&") + query;
    }
    exchange.upstreamUri(encoded);
    return captures;
  }

  /**
   * Percent-encodes what may not appear in a path as sent (spaces, controls, non-ASCII, {@code ?}
   * and the like); existing escapes and reserved characters are kept, as APISIX's uri_safe_encode.
   */
  static String safeEncode(String path) {
    StringBuilder out = null;
    byte[] bytes = path.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      int b = bytes[i] & 0xff;
      boolean keep =
          b < 0x80 && (Character.isLetterOrDigit(b) || "-._~!$&'()*+,;=:@/%".indexOf(b) >= 0);
      if (keep) {
        if (out != null) {
          out.append((char) b);
        }
      } else {
        if (out == null) {
          out = new StringBuilder(bytes.length + 16);
          out.append(new String(bytes, 0, i, StandardCharsets.UTF_8));
        }
        out.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return out == null ? path : out.toString();
  }

  private record RegexUri(Pattern pattern, VariableTemplate replacement) {}

  static final class Factory implements PluginFactory {
    @Override
    public String name() {
      return "proxy-rewrite";
    }

    @Override
    public int priority() {
      return 1008;
    }

    @Override
    public Plugin compile(PluginConfig config, PluginContext context) {
      config.allowOnly(
          "uri", "regex_uri", "method", "host", "headers", "use_real_request_uri_unsafe", "scheme");
      if (config.has("scheme")) {
        throw config.invalid(
            "scheme", "is not supported (APISIX 3 removed it: set the upstream's scheme)");
      }
      if (config.json().propertyNames().stream().allMatch(name -> name.equals("_meta"))) {
        // APISIX's minProperties: an empty proxy-rewrite is a mistake, not a no-op.
        String self = config.path("");
        throw config
            .fields()
            .invalid(self.substring(0, self.length() - 1), "must set at least one field");
      }
      VariableTemplate uri = uri(config);
      List<RegexUri> regexUri = regexUri(config);
      String method = config.oneOf("method", null, METHODS.toArray(String[]::new));
      String host = config.string("host", null);
      if (host != null && !HOST.matcher(host).matches()) {
        throw config.invalid(
            "host", "'" + host + "' is not a host name or address, with an optional :port");
      }
      Map<String, VariableTemplate> add = new LinkedHashMap<>();
      Map<String, VariableTemplate> set = new LinkedHashMap<>();
      List<String> remove = new ArrayList<>();
      headers(
          config, regexUri.isEmpty() || uri != null ? -1 : maxGroups(regexUri), add, set, remove);
      return new ProxyRewritePlugin(
          uri,
          regexUri,
          method,
          host,
          Collections.unmodifiableMap(add),
          Collections.unmodifiableMap(set),
          List.copyOf(remove),
          config.bool("use_real_request_uri_unsafe", false));
    }

    private static VariableTemplate uri(PluginConfig config) {
      String text = config.string("uri", null);
      if (text == null) {
        return null;
      }
      if (text.isEmpty() || text.length() > 4096 || !text.startsWith("/")) {
        throw config.invalid("uri", "must start with '/' and be at most 4096 characters long");
      }
      return VariableTemplate.compile(text, Exchange::isVariable, -1, config, "uri");
    }

    private static List<RegexUri> regexUri(PluginConfig config) {
      List<String> items = config.strings("regex_uri", List.of());
      if (!config.has("regex_uri")) {
        return List.of();
      }
      if (items.size() < 2 || items.size() % 2 != 0) {
        throw config.invalid(
            "regex_uri",
            "must hold pairs of regex and replacement, got " + items.size() + " item(s)");
      }
      List<RegexUri> rules = new ArrayList<>();
      for (int i = 0; i < items.size(); i += 2) {
        String key = "regex_uri[" + i + "]";
        Pattern pattern;
        try {
          pattern = Pattern.compile(items.get(i));
        } catch (PatternSyntaxException e) {
          throw config.invalid(key, "is not a valid regex: " + e.getDescription());
        }
        int groups = pattern.matcher("").groupCount();
        VariableTemplate replacement =
            VariableTemplate.compileReplacement(
                items.get(i + 1), groups, config, "regex_uri[" + (i + 1) + "]");
        rules.add(new RegexUri(pattern, replacement));
      }
      return List.copyOf(rules);
    }

    private static int maxGroups(List<RegexUri> rules) {
      int max = 0;
      for (RegexUri rule : rules) {
        max = Math.max(max, rule.pattern.matcher("").groupCount());
      }
      return max;
    }

    /** Both of APISIX's shapes: {@code {add, set, remove}}, or a flat object of headers to set. */
    private static void headers(
        PluginConfig config,
        int captures,
        Map<String, VariableTemplate> add,
        Map<String, VariableTemplate> set,
        List<String> remove) {
      PluginConfig headers = config.object("headers");
      if (headers == null) {
        return;
      }
      JsonNode json = headers.json();
      if (json.isEmpty()) {
        throw config.invalid("headers", "must not be empty");
      }
      boolean actions =
          json.path("add").isObject()
              || json.path("set").isObject()
              || json.path("remove").isArray();
      if (!actions) {
        readHeaders(headers, null, captures, set);
        return;
      }
      headers.allowOnly("add", "set", "remove");
      readHeaders(headers, "add", captures, add);
      readHeaders(headers, "set", captures, set);
      List<String> names = headers.strings("remove", List.of());
      if (headers.has("remove") && names.isEmpty()) {
        throw headers.invalid("remove", "must not be empty");
      }
      for (int i = 0; i < names.size(); i++) {
        headerName(headers, "remove[" + i + "]", names.get(i));
      }
      remove.addAll(names);
    }

    private static void readHeaders(
        PluginConfig headers, String action, int captures, Map<String, VariableTemplate> into) {
      PluginConfig object = action == null ? headers : headers.object(action);
      if (object == null) {
        return;
      }
      if (object.json().isEmpty()) {
        throw headers.invalid(action, "must not be empty");
      }
      for (Map.Entry<String, JsonNode> entry : object.json().properties()) {
        String name = entry.getKey();
        JsonNode value = entry.getValue();
        headerName(object, name, name);
        if (!(value.isString() || value.isNumber())) {
          throw object.invalid(name, "must be a string or a number");
        }
        String text = value.asString();
        if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0 || text.indexOf('\0') >= 0) {
          throw object.invalid(name, "must not hold CR, LF or NUL");
        }
        if (name.equalsIgnoreCase("Host") && "add".equals(action)) {
          throw object.invalid(name, "cannot be added: set the host field instead");
        }
        into.put(
            name, VariableTemplate.compile(text, Exchange::isVariable, captures, object, name));
      }
    }

    private static void headerName(PluginConfig config, String key, String name) {
      if (!HEADER_NAME.matcher(name).matches()) {
        throw config.invalid(key, "'" + name + "' is not a valid header name");
      }
    }
  }
}
