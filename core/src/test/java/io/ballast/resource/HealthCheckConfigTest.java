package io.ballast.resource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.resource.HealthCheckConfig.Active;
import io.ballast.resource.HealthCheckConfig.Header;
import io.ballast.resource.HealthCheckConfig.ProbeType;
import io.ballast.resource.HealthCheckConfig.Thresholds;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class HealthCheckConfigTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Fields ERRORS = new Fields("upstream 'u1'");

  static HealthCheckConfig parse(String json) {
    return HealthCheckConfig.parse(JSON.readTree(json), ERRORS, "checks.");
  }

  @Test
  void activeAloneTakesApisixDefaultsAndNoPassiveChecks() {
    HealthCheckConfig config = parse("{\"active\": {}}");

    Active active = config.active();
    assertThat(active.type()).isEqualTo(ProbeType.HTTP);
    assertThat(active.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(active.httpPath()).isEqualTo("/");
    assertThat(active.host()).isNull();
    assertThat(active.port()).isZero();
    assertThat(active.requestHeaders()).isEmpty();
    assertThat(active.verifyCertificate()).isTrue();
    assertThat(active.healthyInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(active.unhealthyInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(active.thresholds())
        .isEqualTo(
            new Thresholds(
                2, Set.of(200, 302), 5, 2, 3, Set.of(429, 404, 500, 501, 502, 503, 504, 505)));
    assertThat(config.passive()).isEqualTo(Thresholds.NONE);
  }

  @Test
  void passiveDefaultsFollowApisix() {
    Thresholds passive = parse("{\"active\": {}, \"passive\": {}}").passive();

    assertThat(passive)
        .isEqualTo(
            new Thresholds(
                5,
                Set.of(
                    200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305,
                    306, 307, 308),
                5,
                2,
                7,
                Set.of(429, 500, 503)));
  }

  @Test
  void everyKeySet() {
    HealthCheckConfig config =
        parse(
            """
            {"active": {"type": "https", "timeout": 0.5, "concurrency": 4, "http_path": "/status",
                        "host": "api.example.com", "port": 8443, "https_verify_certificate": false,
                        "req_headers": ["User-Agent: ballast", "Authorization:Bearer s3cret"],
                        "healthy": {"interval": 0.2, "successes": 3, "http_statuses": [200]},
                        "unhealthy": {"interval": 0.1, "http_failures": 4, "tcp_failures": 5,
                                      "timeouts": 6, "http_statuses": [500, 502]}},
             "passive": {"type": "http",
                         "healthy": {"successes": 0, "http_statuses": [200, 201]},
                         "unhealthy": {"http_failures": 1, "tcp_failures": 0, "timeouts": 9,
                                       "http_statuses": [503]}}}
            """);

    assertThat(config)
        .isEqualTo(
            new HealthCheckConfig(
                new Active(
                    ProbeType.HTTPS,
                    Duration.ofMillis(500),
                    "/status",
                    "api.example.com",
                    8443,
                    List.of(
                        new Header("User-Agent", "ballast"),
                        new Header("Authorization", "Bearer s3cret")),
                    false,
                    Duration.ofMillis(200),
                    Duration.ofMillis(100),
                    new Thresholds(3, Set.of(200), 4, 5, 6, Set.of(500, 502))),
                new Thresholds(0, Set.of(200, 201), 1, 0, 9, Set.of(503))));
  }

  @Test
  void headerValuesStayOutOfToString() {
    HealthCheckConfig config =
        parse("{\"active\": {\"req_headers\": [\"Authorization: Bearer s3cret\"]}}");

    assertThat(config.toString()).contains("Authorization").doesNotContain("s3cret");
  }

  @Test
  void passiveWithoutActiveIsRefusedWithTheReason() {
    assertThatThrownBy(() -> parse("{\"passive\": {}}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "upstream 'u1': checks.active: is required when passive is set:"
                + " only active probes bring a node back");
  }

  @Test
  void prefixNamesTheChecksObjectItself() {
    JsonNode notAnObject = JSON.readTree("[1]");

    assertThatThrownBy(() -> HealthCheckConfig.parse(notAnObject, ERRORS, "upstream.checks."))
        .hasMessage("upstream 'u1': upstream.checks: must be an object");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {}                                                  | checks.active: is required
          {"active": {}, "x": 1}                              | unknown field 'checks.x'
          {"active": 1}                                       | checks.active: must be an object
          {"active": {"type": "grpc"}}                        | checks.active.type: 'grpc' is not one of http, https, tcp
          {"active": {"type": 1}}                             | checks.active.type: must be a string
          {"active": {"timeout": 0}}                          | checks.active.timeout: must be a positive number of seconds
          {"active": {"timeout": "1"}}                        | checks.active.timeout: must be a positive number of seconds
          {"active": {"http_path": "status"}}                 | checks.active.http_path: must start with '/'
          {"active": {"host": " "}}                           | checks.active.host: must not be blank
          {"active": {"port": 70000}}                         | checks.active.port: must be between 1 and 65535, got 70000
          {"active": {"https_verify_certificate": "no"}}      | checks.active.https_verify_certificate: must be true or false
          {"active": {"req_headers": []}}                     | checks.active.req_headers: must be a non-empty array of "Name: value" strings
          {"active": {"req_headers": ["no colon"]}}           | checks.active.req_headers[0]: must be "Name: value" with a token as the name
          {"active": {"req_headers": ["ok: 1", 2]}}           | checks.active.req_headers[1]: must be a string
          {"active": {"healthy": []}}                         | checks.active.healthy: must be an object
          {"active": {"healthy": {"interval": -1}}}           | checks.active.healthy.interval: must be a positive number of seconds
          {"active": {"healthy": {"successes": 0}}}           | checks.active.healthy.successes: must be between 1 and 254, got 0
          {"active": {"healthy": {"http_statuses": []}}}      | checks.active.healthy.http_statuses: must be a non-empty array of HTTP statuses
          {"active": {"healthy": {"http_statuses": [200, 99]}}} | checks.active.healthy.http_statuses[1]: must be between 200 and 599, got 99
          {"active": {"healthy": {"http_statuses": [200, 200]}}} | checks.active.healthy.http_statuses[1]: duplicate status 200
          {"active": {"unhealthy": {"interval": 0}}}          | checks.active.unhealthy.interval: must be a positive number of seconds
          {"active": {"unhealthy": {"http_failures": 255}}}   | checks.active.unhealthy.http_failures: must be between 1 and 254, got 255
          {"active": {"unhealthy": {"tcp_failures": 1.5}}}    | checks.active.unhealthy.tcp_failures: must be an integer
          {"active": {"unhealthy": {"timeouts": 0}}}          | checks.active.unhealthy.timeouts: must be between 1 and 254, got 0
          {"active": {"unhealthy": {"http_statuses": ["500"]}}} | checks.active.unhealthy.http_statuses[0]: must be an integer
          {"active": {}, "passive": {"type": "udp"}}          | checks.passive.type: 'udp' is not one of http, https, tcp
          {"active": {}, "passive": {"healthy": {"successes": -1}}} | checks.passive.healthy.successes: must be between 0 and 254, got -1
          {"active": {}, "passive": {"unhealthy": {"timeouts": 300}}} | checks.passive.unhealthy.timeouts: must be between 0 and 254, got 300
          {"active": {}, "passive": {"unhealthy": {"http_statuses": [600]}}} | checks.passive.unhealthy.http_statuses[0]: must be between 200 and 599, got 600
          """)
  void errorsNameTheField(String json, String message) {
    assertThatThrownBy(() -> parse(json))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("upstream 'u1': " + message);
  }
}
