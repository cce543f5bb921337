package io.ballast.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JacksonException;

class JsonTest {

  @Test
  void writesPropertiesSortedAtEveryDepth() {
    String json =
        Json.mapper()
            .writeValueAsString(
                Json.mapper().readTree("{\"b\":{\"z\":1,\"a\":2},\"a\":[{\"d\":1,\"c\":2}]}"));

    assertThat(json).isEqualTo("{\"a\":[{\"c\":2,\"d\":1}],\"b\":{\"a\":2,\"z\":1}}");
    assertThat(Json.mapper().writeValueAsString(Map.of("b", 1, "a", 2)))
        .isEqualTo(Json.mapper().writeValueAsString(new TreeMap<>(Map.of("a", 2, "b", 1))));
  }

  @Test
  void refusesDuplicateKeysAndTrailingContent() {
    assertThatThrownBy(() -> Json.mapper().readTree("{\"a\":1,\"a\":2}"))
        .isInstanceOf(JacksonException.class)
        .hasMessageContaining("Duplicate");
    assertThatThrownBy(() -> Json.mapper().readTree("{} {}")).isInstanceOf(JacksonException.class);
  }
}
