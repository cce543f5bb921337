package io.ballast.dataplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.dataplane.StandaloneFile.Format;
import io.ballast.dataplane.StandaloneFile.IncompleteFileException;
import io.ballast.dataplane.StandaloneFile.InvalidFileException;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class StandaloneFileTest {

  private static final String FILE = "conf/apisix.yaml";
  private static final Function<String, String> NO_ENV = Map.<String, String>of()::get;

  private static ResourceSet yaml(String text) {
    return yaml(text, NO_ENV);
  }

  private static ResourceSet yaml(String text, Function<String, String> env) {
    return StandaloneFile.parse(text, FILE, Format.YAML, env);
  }

  @Test
  void readsAFileBeyondSnakeyamlsDefaultLimitOfThreeMebibytes() {
    StringBuilder text = new StringBuilder("routes:\n");
    int routes = 40_000;
    for (int i = 0; i < routes; i++) {
      text.append("  - id: route-")
          .append(i)
          .append("\n    uri: /a/rather/long/path/for/route/")
          .append(i)
          .append("\n    upstream:\n      nodes:\n        \"127.0.0.1:1980\": 1\n");
    }
    text.append("#END\n");
    assertThat(text.length()).isGreaterThan(3 * 1024 * 1024);

    assertThat(yaml(text.toString()).size()).isEqualTo(routes);
  }

  @Test
  void readsEveryKindApisixWrites() {
    ResourceSet set =
        yaml(
            """
            upstreams:
              - id: 1
                nodes:
                  "127.0.0.1:1980": 1
                type: roundrobin
            services:
              - id: svc
                upstream_id: 1
            routes:
              - id: r1
                uri: /hello
                service_id: svc
            consumers:
              - username: jack
                plugins: {}
            plugin_configs:
              - id: pc1
                plugins: {}
            global_rules:
              - id: g1
                plugins: {}
            plugin_metadata:
              - id: http-logger
                log_format: {}
            ssls: []
            #END
            """);

    assertThat(set.get(ResourceType.UPSTREAMS, "1")).isPresent();
    assertThat(set.get(ResourceType.ROUTES, "r1").orElseThrow().value().get("uri").asString())
        .isEqualTo("/hello");
    assertThat(set.get(ResourceType.CONSUMERS, "jack")).isPresent();
    assertThat(set.get(ResourceType.PLUGIN_CONFIGS, "pc1")).isPresent();
    assertThat(set.get(ResourceType.GLOBAL_RULES, "g1")).isPresent();
    assertThat(set.get(ResourceType.PLUGIN_METADATA, "http-logger")).isPresent();
    assertThat(set.size()).isEqualTo(7);
  }

  @Test
  void aFileOfOnlyTheEndMarkerIsAnEmptyConfiguration() {
    assertThat(yaml("#END\n").size()).isZero();
    assertThat(yaml("routes:\n#END").size()).isZero();
  }

  @Test
  void yamlWithoutTheEndLineIsIncomplete() {
    assertThatThrownBy(() -> yaml("routes: []\n"))
        .isInstanceOf(IncompleteFileException.class)
        .hasMessageContaining(FILE)
        .hasMessageContaining("#END");
    // The marker must close the file, not sit in the middle of it.
    assertThatThrownBy(() -> yaml("#END\nroutes: []\n"))
        .isInstanceOf(IncompleteFileException.class);
    assertThat(yaml("routes: []\n#END\n  \n").size()).isZero();
  }

  @Test
  void jsonNeedsNoEndMarker() {
    ResourceSet set =
        StandaloneFile.parse(
            """
            {"routes": [{"id": "1", "uri": "/a",
              "upstream": {"nodes": {"127.0.0.1:1980": 1}, "type": "roundrobin"}}]}
            """,
            "conf/apisix.json",
            Format.JSON,
            NO_ENV);

    assertThat(set.get(ResourceType.ROUTES, "1")).isPresent();
  }

  @Test
  void substitutesEnvironmentVariablesWithAndWithoutDefaults() {
    ResourceSet set =
        yaml(
            """
            routes:
              - id: r1
                uri: ${{ROUTE_URI}}
                upstream:
                  nodes:
                    "${{UP_HOST:=127.0.0.1}}:${{UP_PORT:= 1980 }}": 1
            #END
            """,
            Map.of("ROUTE_URI", "/from-env")::get);

    var route = set.get(ResourceType.ROUTES, "r1").orElseThrow().value();
    assertThat(route.get("uri").asString()).isEqualTo("/from-env");
    assertThat(route.get("upstream").get("nodes").has("127.0.0.1:1980")).isTrue();
  }

  @Test
  void anUnsetVariableWithoutDefaultNamesTheVariableAndLine() {
    assertThatThrownBy(
            () ->
                yaml(
                    "routes:\n  - id: r1\n    uri: /a\n    plugins:\n      key-auth:\n"
                        + "        key: ${{API_KEY}}\n#END\n"))
        .isInstanceOf(InvalidFileException.class)
        .hasMessage(
            FILE
                + " line 6: environment variable API_KEY is not set and ${{API_KEY}} has no"
                + " default");
  }

  @Test
  void errorsNeverQuoteASubstitutedSecret() {
    String secret = "s3cr3t-token";
    assertThatThrownBy(
            () ->
                StandaloneFile.parse(
                    "{\"routes\": [${{TOKEN}}]}",
                    "conf/apisix.json",
                    Format.JSON,
                    Map.of("TOKEN", secret)::get))
        .isInstanceOf(InvalidFileException.class)
        .hasMessageStartingWith("conf/apisix.json line 1: not valid JSON")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(secret));
  }

  @Test
  void refusesAnUnknownTopLevelKeyNamingIt() {
    assertThatThrownBy(() -> yaml("routes: []\nroute: []\n#END\n"))
        .isInstanceOf(InvalidFileException.class)
        .hasMessageStartingWith(FILE + ": route: unknown key");
  }

  @Test
  void refusesASectionThatIsNotAListOrAnEntryThatIsNotAnObject() {
    assertThatThrownBy(() -> yaml("routes:\n  id: 1\n#END\n"))
        .hasMessage(FILE + ": routes: must be a list of objects");
    assertThatThrownBy(() -> yaml("routes:\n  - /a\n#END\n"))
        .hasMessage(FILE + ": routes[0]: must be an object");
  }

  @Test
  void anInvalidResourceNamesFileIndexIdAndField() {
    assertThatThrownBy(
            () ->
                yaml(
                    """
                    routes:
                      - id: ok
                        uri: /a
                        upstream: {nodes: {"127.0.0.1:1980": 1}, type: roundrobin}
                      - id: bad
                        uri: /b
                        methods: [FETCH]
                        upstream: {nodes: {"127.0.0.1:1980": 1}, type: roundrobin}
                    #END
                    """))
        .isInstanceOf(InvalidFileException.class)
        .hasMessageStartingWith(FILE + ": routes[1]: route 'bad': methods[0]: must be");
  }

  @Test
  void aMissingIdIsNamedWithItsIndex() {
    assertThatThrownBy(() -> yaml("consumers:\n  - plugins: {}\n#END\n"))
        .hasMessageStartingWith(FILE + ": consumers[0]: consumer '': username: is missing");
  }

  @Test
  void aDuplicateIdIsRefused() {
    assertThatThrownBy(
            () ->
                yaml(
                    "upstreams:\n  - {id: u, nodes: {\"a:1\": 1}}\n"
                        + "  - {id: u, nodes: {\"b:1\": 1}}\n#END\n"))
        .hasMessageStartingWith(FILE + ": upstreams[1]: upstream 'u': id: is defined twice");
  }

  @Test
  void aReferenceToAMissingResourceNamesTheReferringResource() {
    assertThatThrownBy(
            () -> yaml("routes:\n  - id: r1\n    uri: /a\n    upstream_id: nowhere\n#END\n"))
        .isInstanceOf(InvalidFileException.class)
        .hasMessageStartingWith(FILE + ": route 'r1': upstream_id")
        .hasMessageContaining("'nowhere' does not exist");
  }

  @Test
  void malformedYamlNamesTheLine() {
    assertThatThrownBy(() -> yaml("routes:\n  - id: r1\n   uri: [\n#END\n"))
        .isInstanceOf(InvalidFileException.class)
        .hasMessageStartingWith(FILE + " line ")
        .hasMessageContaining("not valid YAML");
    assertThatThrownBy(() -> yaml("routes: []\nroutes: []\n#END\n"))
        .hasMessageContaining("not valid YAML")
        .hasMessageContaining("duplicate key routes");
  }

  @Test
  void theTopLevelMustBeAMapping() {
    assertThatThrownBy(() -> yaml("- routes\n#END\n"))
        .hasMessage(FILE + ": the top level must be a mapping of resource kinds to lists");
  }
}
