package io.ballast.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.snapshot.ShrinkGuard;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShrinkGuardConfigTest {

  private static final String ADMIN =
      """
      deployment:
        admin:
          admin_key:
            - name: admin
              key: secret-admin-key
              role: admin
      """;

  private static final String STORAGE =
      "  filesystem:\n    path: x\n    config_bucket: c\n    resource_bucket: r\n";

  private static NodeConfig parse(String yaml) {
    return NodeConfig.parse(
        ConfigLoader.parse(yaml, "conf/config.yaml", Map.<String, String>of()::get), "host");
  }

  @Test
  void withoutTheKeyOrTheBlockTheGuardHoldsOverHalf() {
    assertThat(parse(ADMIN).shrinkGuard()).isSameAs(ShrinkGuard.DEFAULT);
    assertThat(parse(ADMIN + "fallback_cp:\n" + STORAGE).shrinkGuard())
        .isSameAs(ShrinkGuard.DEFAULT);
  }

  @Test
  void readsTheShareAtTheTopOrUnderDeployment() {
    ShrinkGuard top =
        parse(ADMIN + "fallback_cp:\n" + STORAGE + "  max_route_shrink: 20%\n").shrinkGuard();
    assertThat(top.describe()).isEqualTo("20%");
    assertThat(top.check(10, 7, false).held()).isTrue();

    ShrinkGuard nested =
        parse(
                ADMIN.replace(
                    "deployment:\n",
                    "deployment:\n  fallback_cp:\n"
                        + STORAGE.indent(2)
                        + "    max_route_shrink: 0.1\n"))
            .shrinkGuard();
    assertThat(nested.describe()).isEqualTo("10%");
    assertThat(
            parse(ADMIN + "fallback_cp:\n" + STORAGE + "  max_route_shrink: 100%\n")
                .shrinkGuard()
                .enabled())
        .isFalse();
  }

  @Test
  void aWrongShareNamesTheKeyPath() {
    assertThatThrownBy(
            () -> parse(ADMIN + "fallback_cp:\n" + STORAGE + "  max_route_shrink: 150%\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "conf/config.yaml: fallback_cp.max_route_shrink: must be from 0% to 100%, not '150%'");
  }
}
