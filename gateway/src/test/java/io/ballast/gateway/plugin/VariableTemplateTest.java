package io.ballast.gateway.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VariableTemplateTest {

  /** Known to the caller; {@code eva} has no value. */
  private static final Set<String> KNOWN = Set.of("you", "me", "eva", "a.b");

  private static final Map<String, String> VALUES = Map.of("you", "John", "me", "David");

  private static final Function<String, String> LOOKUP = VALUES::get;

  private static String resolve(String text) {
    return VariableTemplate.compile(text, KNOWN::contains, -1).resolve(LOOKUP, null);
  }

  /** APISIX's own cases for resolve_var (t/core/utils.t), and its ?? defaults. */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      emptyValue = "",
      quoteCharacter = '"',
      value = {
        "\"\" | \"\"",
        "xx | xx",
        "$me | David",
        "$me run | David run",
        "talk with $me | talk with David",
        "tell $me to | tell David to",
        "$you and $me | John and David",
        "$eva and $me | \" and David\"",
        "$you and \\$me | John and \\$me",
        "${you}_${me} | John_David",
        "${you}${me} | JohnDavid",
        "${you}$me | JohnDavid",
        "${ you } | John",
        "${eva ?? nobody} | nobody",
        "${eva??nobody} | nobody",
        "${me ?? nobody} | David",
        "${eva ?? a ?? b} | a",
        "${eva ??} | \"\"",
        "$a.b | \"\"",
        "${} and $ and $- and ${ | ${} and $ and $- and ${",
      })
  void resolvesAsApisixResolveVar(String text, String expected) {
    assertThat(resolve(text)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "$nope | names variable $nope, unknown to Ballast",
        "${nope ?? x} | names variable $nope, unknown to Ballast",
        "$me.json | names variable $me.json, unknown to Ballast (write ${me} to end the name",
        "$1 | names capture $1, which only regex_uri's captures can fill",
      })
  void refusesWhatTheCallerCannotResolve(String text, String message) {
    assertThatThrownBy(() -> VariableTemplate.compile(text, KNOWN::contains, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "$1-$me | a-David",
        "${1}$2x | ab-x",
        "\\$1 | \\$1",
        "$12 | names capture $12 but the regex has 2 group(s)",
        "${ 1 } | names capture 1 in a form that is not resolved; write $1",
      })
  void capturesInReachAreResolvedFirst(String text, String expected) {
    String[] captures = {"a-b-", "a", "b-"};
    try {
      String resolved =
          VariableTemplate.compile(text, KNOWN::contains, 2).resolve(LOOKUP, captures);
      assertThat(resolved).isEqualTo(expected);
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).isEqualTo(expected);
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "/$1/${2} | /a/b-",
        "/$$1 | /$1",
        "/\\$1 | /\\a",
        "/a.b | /a.b",
        "/$me | names variable $me, but a regex_uri replacement names only captures ($1 or ${1})",
        "/$ | has a '$' at 1 that names no capture (write $$ for a literal '$')",
        "/${1 | has a '$' at 1 that names no capture (write $$ for a literal '$')",
        "/$3 | names capture $3 but the regex has 2 group(s)",
      })
  void aRegexReplacementReadsAsNgxReSub(String text, String expected) {
    String[] captures = {"a-b-", "a", "b-"};
    try {
      assertThat(VariableTemplate.compileReplacement(text, 2).resolve(LOOKUP, captures))
          .isEqualTo(expected);
    } catch (IllegalArgumentException e) {
      assertThat(e.getMessage()).isEqualTo(expected);
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {"/a/${me} | /a/Da%3Fvid", "/${eva ?? x?y} | /x%3Fy", "/a?b | /a?b"})
  void theEscapeAppliesToValuesAndDefaultsOnly(String text, String expected) {
    Function<String, String> lookup = name -> name.equals("me") ? "Da?vid" : null;
    assertThat(
            VariableTemplate.compile(text, KNOWN::contains, -1)
                .resolve(lookup, null, value -> value.replace("?", "%3F")))
        .isEqualTo(expected);
  }
}
