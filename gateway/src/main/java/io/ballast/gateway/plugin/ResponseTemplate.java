package io.ballast.gateway.plugin;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A header value with APISIX variables, resolved per response as APISIX's {@code
 * core.utils.resolve_var} does: {@code $name} or {@code ${name}}, with {@code ${name ?? default}}
 * for a default; a variable without a value and without a default becomes the empty string, and a
 * {@code $} escaped with a backslash stays as written. Besides the request variables of {@link
 * Exchange#variable}, {@code status} reads the response's status. Unknown variable names are
 * refused when compiled, since APISIX would silently send an empty string.
 */
final class ResponseTemplate {

  private static final Pattern VARIABLE =
      Pattern.compile("(?<!\\\\)\\$(\\{\\s*([^}]+?)\\s*\\}|([\\w.]+))");
  private static final Pattern DEFAULT = Pattern.compile("\\s*\\?\\?\\s*");

  /** A literal, or a variable with an optional default. */
  private record Part(String literal, String variable, String defaultValue) {}

  private final String source;
  private final Part[] parts;

  private ResponseTemplate(String source, Part[] parts) {
    this.source = source;
    this.parts = parts;
  }

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming {@code key} of {@code config} for an unknown variable
   */
  static ResponseTemplate parse(String text, PluginConfig config, String key) {
    List<Part> parts = new ArrayList<>();
    Matcher m = VARIABLE.matcher(text);
    int from = 0;
    while (m.find()) {
      if (m.start() > from) {
        parts.add(new Part(text.substring(from, m.start()), null, null));
      }
      String name = m.group(2) != null ? m.group(2) : m.group(3);
      String defaultValue = null;
      String[] segments = DEFAULT.split(name, 2);
      if (segments.length == 2) {
        name = segments[0];
        defaultValue = segments[1];
      }
      if (!isVariable(name)) {
        throw config.invalid(key, "unknown variable '$" + name + "'");
      }
      parts.add(new Part(null, name, defaultValue));
      from = m.end();
    }
    if (from < text.length()) {
      parts.add(new Part(text.substring(from), null, null));
    }
    return new ResponseTemplate(text, parts.toArray(Part[]::new));
  }

  /** Whether {@link #variable} knows {@code name}. */
  static boolean isVariable(String name) {
    return name.equals("status") || Exchange.isVariable(name);
  }

  /** A variable's value while the response head is sent, or {@code null} when it has none. */
  static String variable(String name, Exchange exchange, ResponseHead response) {
    return name.equals("status") ? Integer.toString(response.status()) : exchange.variable(name);
  }

  /** The value for this exchange and response. */
  String resolve(Exchange exchange, ResponseHead response) {
    if (parts.length == 1 && parts[0].literal != null) {
      return source;
    }
    StringBuilder out = new StringBuilder();
    for (Part part : parts) {
      if (part.literal != null) {
        out.append(part.literal);
        continue;
      }
      String value = variable(part.variable, exchange, response);
      if (value == null) {
        value = part.defaultValue == null ? "" : part.defaultValue;
      }
      out.append(value);
    }
    return out.toString();
  }
}
