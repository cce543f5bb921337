package io.ballast.gateway.plugin;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * APISIX's {@code cors}: answers a preflight request itself and adds the CORS headers to responses
 * whose {@code Origin} is allowed. An origin is allowed by {@code allow_origins} first ({@code *},
 * {@code **} for the request's own origin, one origin, or a comma list), then by any of {@code
 * allow_origins_by_regex}, which are searched for in the origin, not anchored, as APISIX does. A
 * request from an origin that is not allowed still goes upstream; its response just carries no CORS
 * headers, which makes the browser refuse it.
 */
final class CorsPlugin implements Plugin {

  /** What {@code allow_methods: "**"} stands for, as APISIX spells it out. */
  private static final String ALL_METHODS = "GET,POST,PUT,DELETE,PATCH,HEAD,OPTIONS,CONNECT,TRACE";

  private static final String ANY = "*";
  private static final String FORCE_ANY = "**";

  private final String allowOrigins;
  private final Set<String> originList;
  private final Pattern originRegex;
  private final String allowMethods;
  private final String allowHeaders;
  private final String exposeHeaders;
  private final int maxAge;
  private final boolean allowCredential;

  private CorsPlugin(
      String allowOrigins,
      Pattern originRegex,
      String allowMethods,
      String allowHeaders,
      String exposeHeaders,
      int maxAge,
      boolean allowCredential) {
    this.allowOrigins = allowOrigins;
    this.originList = allowOrigins.contains(",") ? Set.copyOf(split(allowOrigins)) : null;
    this.originRegex = originRegex;
    this.allowMethods = allowMethods.equals(FORCE_ANY) ? ALL_METHODS : allowMethods;
    this.allowHeaders = allowHeaders;
    this.exposeHeaders = exposeHeaders;
    this.maxAge = maxAge;
    this.allowCredential = allowCredential;
  }

  /**
   * A preflight is answered here, 200 without a body, and never reaches the upstream; {@link
   * #responseHead} then adds the headers to that reply as to any other response.
   */
  @Override
  public Outcome rewrite(Exchange exchange) {
    if (isPreflight(exchange)) {
      return Outcome.reply(Reply.empty(200));
    }
    return Outcome.proceed();
  }

  @Override
  public void responseHead(Exchange exchange, ResponseHead response) {
    String origin = first(exchange, "Origin");
    String allowed = allowedOrigin(origin);
    if (allowed == null) {
      return;
    }
    var headers = response.headers();
    headers.set("Access-Control-Allow-Origin", allowed);
    if (!allowed.equals(ANY)) {
      headers.add("Vary", "Origin");
    }
    headers.set("Access-Control-Allow-Methods", allowMethods);
    headers.set("Access-Control-Max-Age", Integer.toString(maxAge));
    if (exposeHeaders != null) {
      headers.set("Access-Control-Expose-Headers", exposeHeaders);
    }
    if (allowHeaders.equals(FORCE_ANY)) {
      // "**" echoes what the browser asked for; nothing asked, nothing allowed.
      String requested = first(exchange, "Access-Control-Request-Headers");
      if (requested == null) {
        headers.remove("Access-Control-Allow-Headers");
      } else {
        headers.set("Access-Control-Allow-Headers", requested);
      }
    } else {
      headers.set("Access-Control-Allow-Headers", allowHeaders);
    }
    if (allowCredential) {
      headers.set("Access-Control-Allow-Credentials", "true");
    }
  }

  /** The value for Access-Control-Allow-Origin, or {@code null} when the origin is not allowed. */
  private String allowedOrigin(String origin) {
    String allowed = allowOrigins;
    if (allowed.equals(FORCE_ANY)) {
      allowed = origin == null ? ANY : origin;
    } else if (originList != null) {
      allowed = originList.contains(origin) ? origin : null;
    }
    if (allowed != null && (allowed.equals(ANY) || allowed.equals(origin))) {
      return allowed;
    }
    if (originRegex != null && origin != null && originRegex.matcher(origin).find()) {
      return origin;
    }
    return null;
  }

  private static boolean isPreflight(Exchange exchange) {
    return exchange.request().method().equals("OPTIONS")
        && first(exchange, "Origin") != null
        && first(exchange, "Access-Control-Request-Method") != null;
  }

  private static String first(Exchange exchange, String header) {
    List<String> values = exchange.request().headers(header);
    return values.isEmpty() ? null : values.get(0);
  }

  private static List<String> split(String commaList) {
    List<String> parts = new ArrayList<>();
    for (String part : commaList.split(",")) {
      if (!part.isEmpty()) {
        parts.add(part);
      }
    }
    return parts;
  }

  static final class Factory implements PluginFactory {

    /** A scheme, host and optional port, APISIX's {@code scheme://host:port} origin format. */
    private static final Pattern ORIGIN = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://[^,/\\s]+");

    @Override
    public String name() {
      return "cors";
    }

    @Override
    public int priority() {
      return 4000;
    }

    @Override
    public Plugin compile(PluginConfig config, PluginContext context) {
      config.allowOnly(
          "allow_origins",
          "allow_methods",
          "allow_headers",
          "expose_headers",
          "max_age",
          "allow_credential",
          "allow_origins_by_regex",
          "allow_origins_by_metadata",
          "timing_allow_origins",
          "timing_allow_origins_by_regex");
      for (String unsupported :
          List.of(
              "allow_origins_by_metadata",
              "timing_allow_origins",
              "timing_allow_origins_by_regex")) {
        if (config.has(unsupported)) {
          throw config.invalid(unsupported, "is not supported by Ballast");
        }
      }
      String allowOrigins = origins(config);
      String allowMethods = config.string("allow_methods", ANY);
      String allowHeaders = config.string("allow_headers", ANY);
      String exposeHeaders = config.string("expose_headers", null);
      int maxAge = config.integer("max_age", -1, Integer.MAX_VALUE, 5);
      boolean allowCredential = config.bool("allow_credential", false);
      if (allowCredential) {
        // The CORS specification forbids the wildcard with credentials; "**" is the explicit
        // opt-in APISIX offers instead.
        refuseWildcard(config, "allow_origins", allowOrigins);
        refuseWildcard(config, "allow_methods", allowMethods);
        refuseWildcard(config, "allow_headers", allowHeaders);
        refuseWildcard(config, "expose_headers", exposeHeaders);
      }
      return new CorsPlugin(
          allowOrigins,
          originRegex(config),
          allowMethods,
          allowHeaders,
          exposeHeaders,
          maxAge,
          allowCredential);
    }

    private static String origins(PluginConfig config) {
      String origins = config.string("allow_origins", ANY);
      if (origins.equals(ANY) || origins.equals(FORCE_ANY) || origins.equals("null")) {
        return origins;
      }
      List<String> parts = split(origins);
      if (parts.isEmpty()) {
        throw config.invalid("allow_origins", "must not be empty");
      }
      for (String origin : parts) {
        if (!ORIGIN.matcher(origin).matches()) {
          throw config.invalid(
              "allow_origins",
              "'" + origin + "' is not an origin (scheme://host:port), '*' or '**'");
        }
      }
      return origins;
    }

    private static void refuseWildcard(PluginConfig config, String key, String value) {
      if (ANY.equals(value)) {
        throw config.invalid(key, "cannot be '*' when allow_credential is true (use '**')");
      }
    }

    /** All of {@code allow_origins_by_regex} as one alternation, compiled once. */
    private static Pattern originRegex(PluginConfig config) {
      List<String> regexes = config.strings("allow_origins_by_regex", null);
      if (regexes == null) {
        return null;
      }
      if (regexes.isEmpty()) {
        throw config.invalid("allow_origins_by_regex", "must hold at least one regex");
      }
      Set<String> seen = new HashSet<>();
      List<String> alternatives = new ArrayList<>();
      for (int i = 0; i < regexes.size(); i++) {
        String key = "allow_origins_by_regex[" + i + "]";
        String regex = regexes.get(i);
        if (regex.isEmpty() || regex.length() > 4096) {
          throw config.invalid(key, "must be 1 to 4096 characters long");
        }
        if (!seen.add(regex)) {
          throw config.invalid(key, "repeats '" + regex + "'");
        }
        try {
          Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
          throw config.invalid(key, "is not a valid regex: " + e.getDescription());
        }
        alternatives.add("(?:" + regex + ")");
      }
      return Pattern.compile(String.join("|", alternatives));
    }
  }
}
