package io.ballast.config;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConfigNodeTest {

  private static final String FILE = "conf/config.yaml";

  private static ConfigNode deployment(String key) {
    Map<String, Object> deployment = new LinkedHashMap<>();
    deployment.put(key, "x");
    return ConfigNode.root(FILE, Map.of("deployment", deployment))
        .child("deployment")
        .orElseThrow();
  }

  @Test
  void anUnknownKeyCloseToAKnownOneIsAnsweredWithTheKeyMeant() {
    Set<String> allowed = Set.of("role", "role_data_plane", "admin", "fallback_cp");
    assertThatThrownBy(() -> deployment("rol").rejectUnknownKeys(allowed))
        .isInstanceOf(ConfigException.class)
        .hasMessage(FILE + ": deployment.rol: unknown key; did you mean 'role'?");
    assertThatThrownBy(() -> deployment("fallbackcp").rejectUnknownKeys(allowed))
        .hasMessage(FILE + ": deployment.fallbackcp: unknown key; did you mean 'fallback_cp'?");
    assertThatThrownBy(() -> deployment("fallback-cp").rejectUnknownKeys(allowed))
        .hasMessage(FILE + ": deployment.fallback-cp: unknown key; did you mean 'fallback_cp'?");
  }

  @Test
  void anUnrelatedUnknownKeyListsTheFewKeysAllowed() {
    assertThatThrownBy(() -> deployment("certificates").rejectUnknownKeys(Set.of("role", "admin")))
        .hasMessage(FILE + ": deployment.certificates: unknown key; allowed here: admin, role");
  }

  @Test
  void aLongListOfAllowedKeysIsNotPrinted() {
    Set<String> many =
        Set.of("a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10", "a11", "a12", "a13");
    assertThatThrownBy(() -> deployment("certificates").rejectUnknownKeys(many))
        .hasMessage(
            FILE
                + ": deployment.certificates: unknown key; neither Ballast nor APISIX has it here");
  }

  @Test
  void knownKeysPass() {
    deployment("role").rejectUnknownKeys(Set.of("role"));
  }
}
