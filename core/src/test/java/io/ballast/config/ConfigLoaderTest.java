package io.ballast.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  private static final String FILE = "conf/config.yaml";
  private static final Function<String, String> NO_ENV = name -> null;

  private static ConfigNode parse(String yaml, Map<String, String> env) {
    return ConfigLoader.parse(yaml, FILE, env::get);
  }

  @Test
  void substitutesVariablesAndDefaults() {
    ConfigNode root =
        parse(
            """
            deployment:
              admin:
                admin_key: ${{ADMIN_KEY}}
                host: "http://${{ HOST:= cp.internal }}:9180/${{PATH_PART:=}}x"
                region: ${{REGION:=ap-south-1}}
            """,
            Map.of("ADMIN_KEY", "s3cr3t", "REGION", "eu-west-1"));

    ConfigNode admin = root.child("deployment").orElseThrow().child("admin").orElseThrow();
    assertThat(admin.string("admin_key")).contains("s3cr3t");
    assertThat(admin.string("host")).contains("http://cp.internal:9180/x");
    assertThat(admin.string("region")).contains("eu-west-1");
  }

  @Test
  void aVariableSetToEmptyTextWinsOverTheDefault() {
    ConfigNode root = parse("name: a${{NAME:=fallback}}b\n", Map.of("NAME", ""));
    assertThat(root.string("name")).contains("ab");
  }

  @Test
  void aMissingVariableNamesTheVariableAndTheKeyPath() {
    assertThatThrownBy(
            () ->
                parse(
                    """
                    deployment:
                      fallback_cp:
                        aws_s3:
                          secret_key: ${{S3_SECRET}}
                    """,
                    Map.of()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.file()).isEqualTo(FILE);
              assertThat(e.keyPath()).isEqualTo("deployment.fallback_cp.aws_s3.secret_key");
              assertThat(e.problem()).contains("S3_SECRET").contains("not set");
            })
        .hasMessageStartingWith(FILE + ": deployment.fallback_cp.aws_s3.secret_key: ");
  }

  @Test
  void aMissingVariableInAListNamesTheIndex() {
    assertThatThrownBy(() -> parse("hosts:\n  - http://a\n  - ${{CP_HOST}}\n", Map.of()))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.keyPath()).isEqualTo("hosts[1]"))
        .hasMessageContaining("CP_HOST");
  }

  @Test
  void aMalformedReferenceIsRefused() {
    assertThatThrownBy(() -> parse("key: ${{NOT-A-NAME}}\n", Map.of()))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.keyPath()).isEqualTo("key"))
        .hasMessageContaining("${{NOT-A-NAME}}");
  }

  @Test
  void aWholeValueSubstitutionTakesTheTypeOfItsText() {
    ConfigNode root =
        parse(
            """
            port: ${{PORT}}
            quoted_port: '${{PORT}}'
            enabled: ${{ENABLED}}
            ratio: ${{RATIO}}
            name: ${{NAME}}
            flow: ${{FLOW}}
            joined: ${{PORT}}0
            defaulted: ${{UNSET:=42}}
            """,
            Map.of(
                "PORT", "9080",
                "ENABLED", "true",
                "RATIO", "0.5",
                "NAME", "edge",
                "FLOW", "[1, 2]"));

    assertThat(root.raw("port")).contains(9080);
    // As APISIX, which substitutes before parsing: quoting the reference does not keep it text.
    assertThat(root.raw("quoted_port")).contains(9080);
    assertThat(root.raw("enabled")).contains(true);
    assertThat(root.raw("ratio")).contains(0.5);
    assertThat(root.raw("name")).contains("edge");
    // A variable never adds structure to the file.
    assertThat(root.raw("flow")).contains("[1, 2]");
    assertThat(root.raw("joined")).contains("90800");
    assertThat(root.raw("defaulted")).contains(42);
  }

  @Test
  void valuesWithoutReferencesKeepTheirYamlTypes() {
    ConfigNode root =
        parse(
            """
            port: 9080
            text: '9080'
            day: 2024-01-01
            list: [a, 1]
            """,
            Map.of());
    assertThat(root.raw("port")).contains(9080);
    assertThat(root.raw("text")).contains("9080");
    // No java.util.Date: the value reads back as written.
    assertThat(root.raw("day")).contains("2024-01-01");
    assertThat(root.list("list")).containsExactly("a", 1);
  }

  @Test
  void aSyntaxErrorNamesTheFileAndTheLine() {
    String yaml = "deployment:\n  role: data_plane\n   role_cp: x: y\n";
    assertThatThrownBy(() -> parse(yaml, Map.of()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.file()).isEqualTo(FILE);
              assertThat(e.problem()).startsWith("line 3, column ").contains("not valid YAML");
            })
        .hasMessageStartingWith(FILE + ": line 3, column ");
  }

  @Test
  void aRepeatedKeyIsRefused() {
    assertThatThrownBy(() -> parse("a: 1\nb: 2\na: 3\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(FILE)
        .hasMessageContaining("line 3")
        .hasMessageContaining("duplicate key a");
  }

  @Test
  void noJavaTypesAreBuiltFromTags() {
    assertThatThrownBy(
            () ->
                parse(
                    "x: !!javax.script.ScriptEngineManager [!!java.net.URL [\"http://h\"]]\n",
                    Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(FILE)
        .hasMessageContaining("line 1");
  }

  @Test
  void theRootMustBeAMapping() {
    assertThatThrownBy(() -> parse("- a\n- b\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage(FILE + ": the top level must be a mapping of keys to values, not a list");
    assertThatThrownBy(() -> parse("just text\n", Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("must be a mapping");
  }

  @Test
  void anEmptyFileIsAnEmptyRoot() {
    assertThat(ConfigLoader.parse("", FILE, NO_ENV).isEmpty()).isTrue();
    assertThat(ConfigLoader.parse("# only a comment\n", FILE, NO_ENV).isEmpty()).isTrue();
  }

  @Test
  void loadsAFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("config.yaml");
    Files.writeString(file, "deployment:\n  role: ${{ROLE:=traditional}}\n");

    ConfigNode root = ConfigLoader.load(file, NO_ENV);

    assertThat(root.file()).isEqualTo(file.toString());
    assertThat(root.child("deployment").orElseThrow().string("role")).contains("traditional");
    ConfigNode withRole = ConfigLoader.load(file, Map.of("ROLE", "data_plane")::get);
    assertThat(withRole.child("deployment").orElseThrow().string("role")).contains("data_plane");
  }

  @Test
  void aMissingFileIsNamed(@TempDir Path dir) {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> ConfigLoader.load(missing, NO_ENV))
        .isInstanceOfSatisfying(
            ConfigException.class, e -> assertThat(e.file()).isEqualTo(missing.toString()))
        .hasMessage(missing + ": file not found");
  }

  @Test
  void anUnreadableFileIsNamed(@TempDir Path dir) {
    // A directory cannot be read as a file on every platform, whatever the user's rights.
    assertThatThrownBy(() -> ConfigLoader.load(dir, NO_ENV))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(dir + ": cannot be read");
  }

  @Test
  void keepsNestedListsOfMappings() {
    ConfigNode root = parse("upstreams:\n  - nodes: {\"a:80\": 1}\n", Map.of());
    assertThat(root.list("upstreams")).containsExactly(Map.of("nodes", Map.of("a:80", 1)));
    assertThat(root.list("upstreams").get(0)).isInstanceOf(Map.class);
  }
}
