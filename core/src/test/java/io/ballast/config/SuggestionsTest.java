package io.ballast.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SuggestionsTest {

  private static final List<String> KEYS =
      List.of("node_listen", "fallback_cp", "role", "methods", "type", "deployment");

  @Test
  void suggestsTheKeyATypoWasMeantToBe() {
    assertEquals(Optional.of("node_listen"), Suggestions.closest("node_listn", KEYS));
    assertEquals(Optional.of("fallback_cp"), Suggestions.closest("fallback-cp", KEYS));
    assertEquals(Optional.of("fallback_cp"), Suggestions.closest("fallbackcp", KEYS));
    assertEquals(Optional.of("role"), Suggestions.closest("rol", KEYS));
    assertEquals(Optional.of("methods"), Suggestions.closest("method", KEYS));
    assertEquals(Optional.of("type"), Suggestions.closest("tpye", KEYS));
  }

  @Test
  void suggestsNothingForAnUnrelatedName() {
    assertEquals(Optional.empty(), Suggestions.closest("upstream_id", KEYS));
    assertEquals(Optional.empty(), Suggestions.closest("x", KEYS));
    assertEquals("", Suggestions.didYouMean("certificates", KEYS));
  }

  @Test
  void formatsTheSuggestion() {
    assertEquals("; did you mean 'role'?", Suggestions.didYouMean("rol", KEYS));
  }
}
