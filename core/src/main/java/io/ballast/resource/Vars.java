package io.ballast.resource;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.databind.JsonNode;

/**
 * APISIX's {@code vars}: lua-resty-expr's list of {@code [var, op, value]} or {@code [var, "!", op,
 * value]} expressions, all of which must hold. A route's {@code vars} name {@link
 * RequestVariable}s; response-rewrite's also name response variables: {@code V} is whatever the
 * caller resolves a variable name to, once, when the expressions are parsed. Regexes are compiled
 * then too.
 *
 * <p>Operators follow lua-resty-expr: {@code ==} and {@code ~=} compare numerically when the value
 * is a JSON number; {@code >}, {@code >=}, {@code <}, {@code <=} numerically; {@code ~~} and {@code
 * ~*} search a regex (the latter case-insensitive); {@code in} tests membership in an array of
 * strings; {@code has} looks at all values of a repeated parameter, header or cookie. An absent
 * variable is {@code nil}: only {@code ~=} and {@code == null} hold for it.
 *
 * <p>Refused, so that a route never matches more than it says: unknown variables or operators,
 * regexes that do not compile, an arity other than 3 or 4, the two-element shorthand, and the
 * {@code AND}/{@code OR} logical forms.
 */
public final class Vars<V> {

  /** Where expressions read their variables' values. */
  public interface Lookup<V> {
    /** The first value, or {@code null} (Lua's nil) when there is none. */
    String value(V variable);

    /** Every value; several for a repeated parameter, header or cookie. */
    List<String> values(V variable);
  }

  private final List<Expression<V>> expressions;

  private Vars(List<Expression<V>> expressions) {
    this.expressions = expressions;
  }

  /** Whether every expression holds. */
  public boolean matches(Lookup<V> lookup) {
    for (Expression<V> expression : expressions) {
      if (!expression.holds(lookup)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Parses {@code vars}; failures name the expression, e.g. {@code vars[0][1]}.
   *
   * @param field the path of {@code vars} in its resource
   * @param variables resolves a variable's name, {@code null} for a name it does not know
   * @param known how to tell the user which names are known, e.g. {@code "use arg_*, http_*, …"}
   */
  public static <V> Vars<V> parse(
      JsonNode vars, Fields fields, String field, Function<String, V> variables, String known) {
    if (!vars.isArray()) {
      throw fields.invalid(field, "must be an array of [var, operator, value] expressions");
    }
    List<Expression<V>> expressions = new ArrayList<>();
    for (int i = 0; i < vars.size(); i++) {
      expressions.add(
          Expression.parse(vars.get(i), fields, field + "[" + i + "]", variables, known));
    }
    return new Vars<>(List.copyOf(expressions));
  }

  /** A route's {@code vars}, over the request variables. */
  public static Vars<RequestVariable> ofRequest(JsonNode vars, Fields fields, String field) {
    return parse(
        vars,
        fields,
        field,
        RequestVariable::of,
        "use arg_*, http_*, cookie_*, uri, host, remote_addr or request_method");
  }

  enum Operator {
    EQ("=="),
    NE("~="),
    GT(">"),
    GE(">="),
    LT("<"),
    LE("<="),
    REGEX("~~"),
    REGEX_CI("~*"),
    IN("in"),
    HAS("has");

    final String symbol;

    Operator(String symbol) {
      this.symbol = symbol;
    }

    static Operator of(String symbol) {
      String lower = symbol.toLowerCase(Locale.ROOT);
      for (Operator operator : values()) {
        if (operator.symbol.equals(lower)) {
          return operator;
        }
      }
      return null;
    }
  }

  private record Expression<V>(
      V variable,
      boolean negated,
      Operator operator,
      String text,
      double number,
      boolean numeric,
      boolean isNull,
      Pattern regex,
      List<String> members) {

    static <V> Expression<V> parse(
        JsonNode node, Fields fields, String field, Function<String, V> variables, String known) {
      if (!node.isArray()) {
        throw fields.invalid(field, "must be an array [var, operator, value]");
      }
      if (node.size() > 0 && node.get(0).isString() && isLogical(node.get(0).stringValue())) {
        throw fields.invalid(
            field + "[0]", "logical operator '" + node.get(0).stringValue() + "' is not supported");
      }
      if (node.size() != 3 && node.size() != 4) {
        throw fields.invalid(
            field, "must be [var, operator, value] or [var, \"!\", operator, value]");
      }
      boolean negated = node.size() == 4;
      if (negated && !(node.get(1).isString() && node.get(1).stringValue().equals("!"))) {
        throw fields.invalid(field + "[1]", "must be \"!\" in a four-element expression");
      }
      JsonNode varNode = node.get(0);
      if (!varNode.isString()) {
        throw fields.invalid(field + "[0]", "must be a variable name");
      }
      V variable = variables.apply(varNode.stringValue());
      if (variable == null) {
        throw fields.invalid(
            field + "[0]", "unknown variable '" + varNode.stringValue() + "'; " + known);
      }
      int opIndex = negated ? 2 : 1;
      JsonNode opNode = node.get(opIndex);
      Operator operator = opNode.isString() ? Operator.of(opNode.stringValue()) : null;
      if (operator == null) {
        throw fields.invalid(
            field + "[" + opIndex + "]",
            "unknown operator " + opNode + "; use ==, ~=, >, >=, <, <=, ~~, ~*, in or has");
      }
      String valueField = field + "[" + (opIndex + 1) + "]";
      JsonNode value = node.get(opIndex + 1);
      String text = value.isString() ? value.stringValue() : null;
      double number = value.isNumber() ? value.doubleValue() : Double.NaN;
      Pattern regex = null;
      List<String> members = null;
      switch (operator) {
        case GT, GE, LT, LE -> {
          if (!value.isNumber()) {
            Double parsed = text == null ? null : LuaNumber.parse(text);
            if (parsed == null) {
              throw fields.invalid(valueField, "must be a number for " + operator.symbol);
            }
            number = parsed;
          }
        }
        case REGEX, REGEX_CI -> {
          if (text == null) {
            throw fields.invalid(valueField, "must be a regex string for " + operator.symbol);
          }
          try {
            regex =
                Pattern.compile(text, operator == Operator.REGEX_CI ? Pattern.CASE_INSENSITIVE : 0);
          } catch (PatternSyntaxException e) {
            throw fields.invalid(
                valueField, "'" + text + "' is not a valid regex: " + e.getDescription());
          }
        }
        case IN -> {
          if (!value.isArray()) {
            throw fields.invalid(valueField, "must be an array for in");
          }
          List<String> strings = new ArrayList<>();
          for (JsonNode member : value) {
            // Lua compares without conversion: only string members can equal a variable.
            if (member.isString()) {
              strings.add(member.stringValue());
            }
          }
          members = List.copyOf(strings);
        }
        case HAS -> {
          if (text == null) {
            throw fields.invalid(valueField, "must be a string for has");
          }
        }
        case EQ, NE -> {
          if (!(value.isString() || value.isNumber() || value.isNull() || value.isBoolean())) {
            throw fields.invalid(valueField, "must be a string, number, boolean or null");
          }
        }
      }
      return new Expression<>(
          variable,
          negated,
          operator,
          text,
          number,
          value.isNumber(),
          value.isNull(),
          regex,
          members);
    }

    private static boolean isLogical(String op) {
      String upper = op.toUpperCase(Locale.ROOT);
      return upper.equals("AND")
          || upper.equals("OR")
          || upper.equals("!AND")
          || upper.equals("!OR");
    }

    boolean holds(Lookup<V> lookup) {
      return compare(lookup) != negated;
    }

    private boolean compare(Lookup<V> lookup) {
      if (operator == Operator.HAS) {
        return lookup.values(variable).contains(text);
      }
      String actual = lookup.value(variable);
      return switch (operator) {
        case EQ -> equal(actual);
        case NE -> !equal(actual);
        case GT, GE, LT, LE -> {
          Double left = actual == null ? null : LuaNumber.parse(actual);
          if (left == null) {
            yield false;
          }
          yield switch (operator) {
            case GT -> left > number;
            case GE -> left >= number;
            case LT -> left < number;
            default -> left <= number;
          };
        }
        case REGEX, REGEX_CI -> actual != null && regex.matcher(actual).find();
        case IN -> actual != null && members.contains(actual);
        case HAS -> throw new AssertionError("handled above");
      };
    }

    private boolean equal(String actual) {
      if (isNull) {
        return actual == null;
      }
      if (numeric) {
        Double left = actual == null ? null : LuaNumber.parse(actual);
        return left != null && left == number;
      }
      // A boolean never equals a string variable, as in Lua.
      return text != null && text.equals(actual);
    }
  }

  /** Lua's tonumber for the strings variables hold: decimal with exponent, or 0x hex. */
  static final class LuaNumber {
    private static final Pattern DECIMAL =
        Pattern.compile("[+-]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][+-]?[0-9]+)?");
    // At most 15 hex digits, so that the value fits a long.
    private static final Pattern HEX = Pattern.compile("[+-]?0[xX][0-9a-fA-F]{1,15}");

    private LuaNumber() {}

    static Double parse(String text) {
      String trimmed = text.strip();
      if (DECIMAL.matcher(trimmed).matches()) {
        return Double.parseDouble(trimmed);
      }
      if (HEX.matcher(trimmed).matches()) {
        boolean negative = trimmed.startsWith("-");
        String digits = trimmed.replaceFirst("^[+-]?0[xX]", "");
        long value = Long.parseLong(digits, 16);
        return (double) (negative ? -value : value);
      }
      return null;
    }
  }
}
