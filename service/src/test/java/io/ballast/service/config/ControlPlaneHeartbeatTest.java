package io.ballast.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code deployment.role_data_plane.control_plane.heartbeat_interval}. */
class ControlPlaneHeartbeatTest {

  private static final String DP =
      """
      deployment:
        role: data_plane
        role_data_plane:
          config_provider: control_plane
          control_plane:
            host: [http://127.0.0.1:9280]
      """;

  @TempDir Path dir;

  private NodeConfig parse(String yaml) throws IOException {
    Path file = Files.writeString(dir.resolve("config.yaml"), yaml);
    return NodeConfig.parse(ConfigLoader.load(file), "host");
  }

  @Test
  void defaultsToFiveSeconds() throws IOException {
    assertThat(parse(DP).heartbeat().interval()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void takesWholeSecondsFromOneToThirty() throws IOException {
    assertThat(parse(DP + "      heartbeat_interval: 2s\n").heartbeat().interval())
        .isEqualTo(Duration.ofSeconds(2));
    assertThat(parse(DP + "      heartbeat_interval: 30\n").heartbeat().interval())
        .isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void refusesOtherValuesNamingTheKeyPath() {
    for (String value : new String[] {"500ms", "0", "31s", "1500ms", "soon"}) {
      assertThatThrownBy(() -> parse(DP + "      heartbeat_interval: " + value + "\n"))
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith(
              dir.resolve("config.yaml")
                  + ": deployment.role_data_plane.control_plane.heartbeat_interval");
    }
  }
}
