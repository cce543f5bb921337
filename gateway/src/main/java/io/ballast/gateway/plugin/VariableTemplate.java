package io.ballast.gateway.plugin;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A string with APISIX variables, parsed once and resolved per request: proxy-rewrite's uri,
 * headers and regex_uri replacements, and response-rewrite's headers. It reads the two syntaxes
 * APISIX has:
 *
 * <ul>
 *   <li>{@link #compile}: {@code core.utils.resolve_var}'s. {@code $name} (letters, digits, {@code
 *       _} and {@code .}) or {@code ${name}}, with {@code ${name ?? default}} for a default.
 *       Without a value and without a default a variable is the empty string. A {@code $} right
 *       after a backslash stays as written, backslash included, and so does a {@code $} that starts
 *       no name. Where regex_uri's captures are in reach (proxy-rewrite's headers), {@code $1} and
 *       {@code ${1}} name them, as {@code resolve_var_with_captures} resolves them first.
 *   <li>{@link #compileReplacement}: a regex_uri replacement, which APISIX hands to {@code
 *       ngx.re.sub}: {@code $1} or {@code ${1}} names a capture, {@code $$} is a {@code $}, and no
 *       other {@code $} may appear.
 * </ul>
 *
 * Unlike APISIX, a variable Ballast does not know is refused when compiled rather than resolved to
 * an empty string on every request, and so is a capture the regex does not have. Compile errors are
 * {@link IllegalArgumentException}s saying what is wrong; {@link #compile(String, Predicate, int,
 * PluginConfig, String)} names the field.
 */
final class VariableTemplate {

  /** resolve_var's pattern: a braced name (with its default) or a bare name. */
  private static final Pattern VARIABLE = Pattern.compile("\\$(?:\\{\\s*([^}]+?)\\s*}|([\\w.]+))");

  /** resolve_var_with_captures' pattern, with balanced braces. */
  private static final Pattern CAPTURE = Pattern.compile("\\$(?:(\\d+)|\\{(\\d+)})");

  private static final Pattern DEFAULT = Pattern.compile("\\s*\\?\\?\\s*");

  /** ngx.re.sub's template: a capture, or {@code $$}. */
  private static final Pattern REPLACEMENT = Pattern.compile("\\$(?:(\\d+)|\\{(\\d+)}|(\\$))");

  /** What a stray {@code $} in a replacement looks like it names, for the error. */
  private static final Pattern NAME = Pattern.compile("\\$\\{?([\\w.]+)");

  private sealed interface Part permits Literal, Variable, Capture {}

  private record Literal(String text) implements Part {}

  /** {@code defaultValue} is {@code null} when none is given. */
  private record Variable(String name, String defaultValue) implements Part {}

  private record Capture(int group) implements Part {}

  private final List<Part> parts;

  private VariableTemplate(List<Part> parts) {
    this.parts = parts;
  }

  /**
   * Parses {@code text} in resolve_var's syntax.
   *
   * @param isVariable the variable names the caller can resolve
   * @param captures how many capture groups the text may name, or -1 where captures are not in
   *     reach
   * @throws IllegalArgumentException for an unknown variable or capture
   */
  static VariableTemplate compile(String text, Predicate<String> isVariable, int captures) {
    Parts parts = new Parts();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c != '$' || (i > 0 && text.charAt(i - 1) == '\\')) {
        parts.literal(c);
        i++;
        continue;
      }
      Matcher capture = CAPTURE.matcher(text).region(i, text.length());
      if (captures >= 0 && capture.lookingAt()) {
        parts.add(
            capture(capture.group(1) != null ? capture.group(1) : capture.group(2), captures));
        i = capture.end();
        continue;
      }
      Matcher variable = VARIABLE.matcher(text).region(i, text.length());
      if (!variable.lookingAt()) {
        parts.literal(c);
        i++;
        continue;
      }
      String name = variable.group(2);
      String defaultValue = null;
      if (name == null) {
        String[] segments = DEFAULT.split(variable.group(1), -1);
        name = segments[0];
        // As APISIX's split: in "${a ?? b ?? c}" the default is "b".
        defaultValue = segments.length > 1 ? segments[1] : null;
      }
      parts.add(variable(name, defaultValue, isVariable, captures));
      i = variable.end();
    }
    return parts.template();
  }

  /**
   * Parses {@code text} as a regex_uri replacement for a regex with {@code captures} groups.
   *
   * @throws IllegalArgumentException for a {@code $} that names no capture of the regex
   */
  static VariableTemplate compileReplacement(String text, int captures) {
    Parts parts = new Parts();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c != '$') {
        parts.literal(c);
        i++;
        continue;
      }
      Matcher m = REPLACEMENT.matcher(text).region(i, text.length());
      if (m.lookingAt()) {
        if (m.group(3) != null) {
          parts.literal('$');
        } else {
          parts.add(capture(m.group(1) != null ? m.group(1) : m.group(2), captures));
        }
        i = m.end();
        continue;
      }
      Matcher name = NAME.matcher(text).region(i, text.length());
      if (name.lookingAt() && !Character.isDigit(name.group(1).charAt(0))) {
        throw new IllegalArgumentException(
            "names variable $"
                + name.group(1)
                + ", but a regex_uri replacement names only captures ($1 or ${1})");
      }
      throw new IllegalArgumentException(
          "has a '$' at " + i + " that names no capture (write $$ for a literal '$')");
    }
    return parts.template();
  }

  /** {@link #compile(String, Predicate, int)}, naming {@code key} of {@code config} on errors. */
  static VariableTemplate compile(
      String text, Predicate<String> isVariable, int captures, PluginConfig config, String key) {
    try {
      return compile(text, isVariable, captures);
    } catch (IllegalArgumentException e) {
      throw config.invalid(key, e.getMessage());
    }
  }

  /** {@link #compileReplacement(String, int)}, naming {@code key} of {@code config} on errors. */
  static VariableTemplate compileReplacement(
      String text, int captures, PluginConfig config, String key) {
    try {
      return compileReplacement(text, captures);
    } catch (IllegalArgumentException e) {
      throw config.invalid(key, e.getMessage());
    }
  }

  private static Part variable(
      String name, String defaultValue, Predicate<String> isVariable, int captures) {
    if (isVariable.test(name)) {
      return new Variable(name, defaultValue);
    }
    if (!name.isEmpty() && name.chars().allMatch(Character::isDigit)) {
      if (captures < 0) {
        throw new IllegalArgumentException(
            "names capture $" + name + ", which only regex_uri's captures can fill");
      }
      // "${ 1 }" or "${1 ?? x}": APISIX resolves neither as a capture.
      throw new IllegalArgumentException(
          "names capture " + name + " in a form that is not resolved; write $" + name);
    }
    String message = "names variable $" + name + ", unknown to Ballast";
    int dot = name.indexOf('.');
    if (dot > 0 && isVariable.test(name.substring(0, dot))) {
      // APISIX reads "$uri.json" as the variable "uri.json".
      message += " (write ${" + name.substring(0, dot) + "} to end the name before the '.')";
    }
    throw new IllegalArgumentException(message);
  }

  private static Part capture(String digits, int captures) {
    if (captures < 0) {
      throw new IllegalArgumentException(
          "names capture $" + digits + ", which only regex_uri's captures can fill");
    }
    int group = digits.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(digits);
    if (group > captures) {
      throw new IllegalArgumentException(
          "names capture $" + digits + " but the regex has " + captures + " group(s)");
    }
    return new Capture(group);
  }

  /** The text for one request; variables without a value and captures not matched are empty. */
  String resolve(Function<String, String> variables, String[] captures) {
    return resolve(variables, captures, UnaryOperator.identity());
  }

  /**
   * As {@link #resolve(Function, String[])}, with every variable's value or default passed through
   * {@code escape}, as APISIX's escaper.
   *
   * @param captures the regex's groups, or {@code null} when it did not match
   */
  String resolve(
      Function<String, String> variables, String[] captures, UnaryOperator<String> escape) {
    if (parts.size() == 1 && parts.get(0) instanceof Literal only) {
      return only.text();
    }
    StringBuilder out = new StringBuilder();
    for (Part part : parts) {
      if (part instanceof Literal literal) {
        out.append(literal.text());
      } else if (part instanceof Capture capture) {
        if (captures != null && capture.group() < captures.length) {
          out.append(captures[capture.group()]);
        }
      } else if (part instanceof Variable variable) {
        String value = variables.apply(variable.name());
        if (value == null) {
          value = variable.defaultValue();
        }
        if (value != null) {
          out.append(escape.apply(value));
        }
      }
    }
    return out.toString();
  }

  /** Collects parts, merging adjacent literal text. */
  private static final class Parts {
    private final List<Part> parts = new ArrayList<>();
    private final StringBuilder literal = new StringBuilder();

    void literal(char c) {
      literal.append(c);
    }

    void add(Part part) {
      flush();
      parts.add(part);
    }

    VariableTemplate template() {
      flush();
      return new VariableTemplate(List.copyOf(parts));
    }

    private void flush() {
      if (!literal.isEmpty()) {
        parts.add(new Literal(literal.toString()));
        literal.setLength(0);
      }
    }
  }
}
