package io.ballast.config;

import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * APISIX's environment references, {@code ${{NAME}}} and {@code ${{NAME:=default}}}, as both the
 * node's config file and the standalone resource file use them.
 */
public final class EnvReference {

  // APISIX allows spaces inside the braces and trims the default; the name is checked separately
  // so that a malformed reference is reported instead of being left in the value silently.
  /** One reference; group 1 is its inside. */
  public static final Pattern PATTERN = Pattern.compile("\\$\\{\\{(.*?)\\}\\}");

  private static final Pattern VARIABLE_NAME = Pattern.compile("\\w+");

  private EnvReference() {}

  /**
   * The value of one reference's inside ({@code NAME} or {@code NAME:=default}), from {@code env}
   * (which answers null when unset).
   *
   * @throws IllegalArgumentException saying what is wrong, naming the variable but never a value
   */
  public static String value(String inside, Function<String, String> env) {
    int split = inside.indexOf(":=");
    String name = (split < 0 ? inside : inside.substring(0, split)).trim();
    if (!VARIABLE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "'${{" + inside + "}}' is not a variable reference like ${{NAME}} or ${{NAME:=default}}");
    }
    String value = env.apply(name);
    if (value != null) {
      return value;
    }
    if (split >= 0) {
      return inside.substring(split + 2).trim();
    }
    throw new IllegalArgumentException(
        "environment variable " + name + " is not set and ${{" + name + "}} has no default");
  }
}
