package io.ballast.gateway.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.gateway.health.NodeHealth.Failure;
import org.junit.jupiter.api.Test;

class NodeHealthTest {

  private final NodeHealth health = new NodeHealth();

  @Test
  void unhealthyOnlyAfterThresholdFailuresInARow() {
    assertThat(health.failure(Failure.TIMEOUT, 3)).isFalse();
    assertThat(health.failure(Failure.TIMEOUT, 3)).isFalse();
    assertThat(health.isHealthy()).isTrue();

    assertThat(health.failure(Failure.TIMEOUT, 3)).isTrue();
    assertThat(health.isHealthy()).isFalse();
    assertThat(health.failure(Failure.TIMEOUT, 3)).as("already unhealthy: no change").isFalse();
  }

  @Test
  void aSuccessClearsTheFailureCounters() {
    health.failure(Failure.HTTP, 2);
    health.success(2);

    assertThat(health.failure(Failure.HTTP, 2)).isFalse();
    assertThat(health.isHealthy()).isTrue();
  }

  @Test
  void failureKindsCountSeparately() {
    health.failure(Failure.HTTP, 2);
    health.failure(Failure.TCP, 2);

    assertThat(health.isHealthy()).isTrue();
    assertThat(health.failure(Failure.TCP, 2)).isTrue();
  }

  @Test
  void healthyAgainAfterThresholdSuccessesAndAFailureClearsThem() {
    health.failure(Failure.TCP, 1);
    assertThat(health.isHealthy()).isFalse();

    health.success(2);
    health.failure(Failure.TCP, 1);
    assertThat(health.success(2)).as("the failure cleared the first success").isFalse();
    assertThat(health.success(2)).isTrue();
    assertThat(health.isHealthy()).isTrue();
  }

  @Test
  void aStateChangeClearsAllCounters() {
    health.failure(Failure.HTTP, 5);
    health.failure(Failure.TIMEOUT, 1);
    health.success(1);

    assertThat(health.failure(Failure.HTTP, 2))
        .as("the http failure before the change is gone")
        .isFalse();
  }

  @Test
  void aZeroThresholdTurnsTheReportOff() {
    assertThat(health.failure(Failure.HTTP, 0)).isFalse();
    health.failure(Failure.TCP, 1);

    assertThat(health.success(0)).isFalse();
    assertThat(health.success(0)).isFalse();
    assertThat(health.isHealthy()).isFalse();
  }
}
