package io.ballast.gateway.plugin;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What limit-count and limit-req count requests by: APISIX's {@code key_type} and {@code key}. A
 * key that resolves to nothing falls back to the client's address, as in APISIX, so that a missing
 * header does not put every such client into one shared bucket.
 */
final class LimitKey {

  private static final String FALLBACK = "remote_addr";

  /** {@code $name} or {@code ${name}}, as APISIX's resolve_var reads a var_combination. */
  private static final Pattern VARIABLE = Pattern.compile("\\$(?:\\{(\\w+)}|(\\w+))");

  /** A piece of the key: literal text, or a variable when {@code variable} is true. */
  private record Part(String text, boolean variable) {}

  private final List<Part> parts;
  private final String constant;

  private LimitKey(List<Part> parts, String constant) {
    this.parts = parts;
    this.constant = constant;
  }

  /**
   * Reads {@code key_type} (one of {@code keyTypes}, the first being the default) and {@code key}.
   *
   * @param defaultKey the key when absent, or {@code null} when the key is required
   */
  static LimitKey compile(PluginConfig config, String defaultKey, String... keyTypes) {
    String keyType = config.oneOf("key_type", keyTypes[0], keyTypes);
    String key =
        defaultKey == null ? config.requiredString("key") : config.string("key", defaultKey);
    if (key.isEmpty()) {
      throw config.invalid("key", "must not be empty");
    }
    return switch (keyType) {
      case "constant" -> new LimitKey(List.of(), key);
      case "var_combination" -> new LimitKey(combination(config, key), null);
      default -> {
        if (!Exchange.isVariable(key)) {
          throw config.invalid("key", "'" + key + "' is not a variable Ballast knows");
        }
        yield new LimitKey(List.of(new Part(key, true)), null);
      }
    };
  }

  private static List<Part> combination(PluginConfig config, String key) {
    List<Part> parts = new ArrayList<>();
    Matcher matcher = VARIABLE.matcher(key);
    int end = 0;
    while (matcher.find()) {
      String name = matcher.group(1) != null ? matcher.group(1) : matcher.group(2);
      if (!Exchange.isVariable(name)) {
        throw config.invalid("key", "'$" + name + "' is not a variable Ballast knows");
      }
      if (matcher.start() > end) {
        parts.add(new Part(key.substring(end, matcher.start()), false));
      }
      parts.add(new Part(name, true));
      end = matcher.end();
    }
    if (parts.isEmpty()) {
      throw config.invalid(
          "key", "must name at least one variable, like '$remote_addr $http_x_user'");
    }
    if (end < key.length()) {
      parts.add(new Part(key.substring(end), false));
    }
    return List.copyOf(parts);
  }

  /** The key of {@code exchange}'s request. */
  String of(Exchange exchange) {
    if (constant != null) {
      return constant;
    }
    StringBuilder key = new StringBuilder();
    boolean resolved = false;
    for (Part part : parts) {
      if (!part.variable()) {
        key.append(part.text());
        continue;
      }
      String value = exchange.variable(part.text());
      if (value != null) {
        key.append(value);
        resolved = true;
      }
    }
    if (!resolved) {
      String address = exchange.variable(FALLBACK);
      return address == null ? "" : address;
    }
    return key.toString();
  }
}
