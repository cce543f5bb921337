package io.ballast.service.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.controlplane.admin.AdminKey;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class AdminConfigTest {

  private static final String OWN_KEY = "a-long-random-key-nobody-published-3f9a";

  /** {@code deployment.admin} of {@code yaml}, read as a node serving the Admin API does. */
  private static AdminConfig parse(String yaml) {
    return parse(yaml, true);
  }

  private static AdminConfig parse(String yaml, boolean served) {
    ConfigNode root = ConfigLoader.parse(yaml, "conf/config.yaml", Map.<String, String>of()::get);
    return AdminConfig.parse(root.childOrEmpty("deployment").childOrEmpty("admin"), served);
  }

  /** A {@code deployment.admin} block: the lines given, indented under it. */
  private static String admin(String... lines) {
    StringBuilder yaml = new StringBuilder("deployment:\n  admin:\n");
    for (String line : lines) {
      yaml.append("    ").append(line).append('\n');
    }
    return yaml.toString();
  }

  private static String[] keyEntry(String key, String role, String... more) {
    List<String> lines = new ArrayList<>(List.of("admin_key:", "  - name: admin"));
    lines.add("    key: " + key);
    if (role != null) {
      lines.add("    role: " + role);
    }
    lines.addAll(List.of(more));
    return lines.toArray(String[]::new);
  }

  private static String[] with(String[] first, String... more) {
    List<String> lines = new ArrayList<>(List.of(first));
    lines.addAll(List.of(more));
    return lines.toArray(String[]::new);
  }

  private static void assertRefused(String yaml, String keyPath, String problem) {
    assertThatThrownBy(() -> parse(yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("conf/config.yaml: " + keyPath + ": ")
        .hasMessageContaining(problem)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void defaultsAreLoopbackAndApisixsAllowList() throws Exception {
    AdminConfig config = parse(admin(keyEntry(OWN_KEY, "admin")));

    assertThat(config.listen()).isEqualTo(new Listen("127.0.0.1", 9180));
    assertThat(config.keyRequired()).isTrue();
    assertThat(config.keys()).containsExactly(new AdminKey("admin", OWN_KEY, AdminKey.Role.ADMIN));
    assertThat(config.allowed()).hasSize(1);
    assertThat(config.allowed().get(0).matches(InetAddress.getByName("127.0.0.200"))).isTrue();
    assertThat(config.allowed().get(0).matches(InetAddress.getByName("127.0.1.1"))).isFalse();
    assertThat(config.warnings()).isEmpty();
    assertThat(config.toString()).doesNotContain(OWN_KEY);
  }

  @Test
  void readsApisixsWholeBlock() throws Exception {
    AdminConfig config =
        parse(
            admin(
                "admin_key_required: true",
                "admin_key:",
                "  - {name: admin, key: " + OWN_KEY + ", role: admin}",
                "  - {name: viewer, key: viewer-" + OWN_KEY + ", role: viewer}",
                "enable_admin_cors: true",
                "enable_admin_ui: false",
                "allow_admin: [10.0.0.0/8, '::1/128']",
                "admin_listen: {ip: 0.0.0.0, port: 9181}",
                "https_admin: false",
                "admin_api_mtls: {admin_ssl_cert: a.pem, admin_ssl_cert_key: a.key,"
                    + " admin_ssl_ca_cert: ca.pem}",
                "admin_api_version: v3"));

    assertThat(config.listen()).isEqualTo(new Listen("0.0.0.0", 9181));
    assertThat(config.keys())
        .extracting(AdminKey::role)
        .containsExactly(AdminKey.Role.ADMIN, AdminKey.Role.VIEWER);
    assertThat(config.allowed().get(1).matches(InetAddress.getByName("::1"))).isTrue();
    assertThat(config.access().keys()).hasSize(2);
    assertThat(config.warnings()).isEmpty();
  }

  @Test
  void refusesWhatIsNotApisixsBlockNamingTheKeyPath() {
    String[] own = keyEntry(OWN_KEY, "admin");
    assertRefused(
        admin(with(own, "allow_admn: [10.0.0.0/8]")), "deployment.admin.allow_admn", "unknown key");
    assertRefused(
        admin("admin_key:", "  - {name: admin, key: " + OWN_KEY + ", rol: admin}"),
        "deployment.admin.admin_key[0].rol",
        "did you mean 'role'?");
    assertRefused(
        admin("admin_key:", "  - " + OWN_KEY), "deployment.admin.admin_key[0]", "mapping");
    assertRefused(
        admin(with(own, "admin_listen: {ip: 127.0.0.1, prot: 9180}")),
        "deployment.admin.admin_listen.prot",
        "unknown key");
    assertRefused(
        admin(with(own, "admin_listen: {ip: 127.0.0.1, port: 70000}")),
        "deployment.admin.admin_listen.port",
        "70000");
    assertRefused(
        admin(with(own, "admin_api_mtls: {admin_ssl_crt: a.pem}")),
        "deployment.admin.admin_api_mtls.admin_ssl_crt",
        "unknown key");
    assertRefused(
        admin(with(own, "enable_admin_cors: yes please")),
        "deployment.admin.enable_admin_cors",
        "true or false");
  }

  @Test
  void refusesRolesOtherThanAdminAndViewerAndEntriesWithoutOne() {
    assertRefused(
        admin(keyEntry(OWN_KEY, "editor")),
        "deployment.admin.admin_key[0].role",
        "must be admin or viewer, not 'editor'");
    assertRefused(admin(keyEntry(OWN_KEY, null)), "deployment.admin.admin_key[0].role", "required");
    assertRefused(
        admin(
            "admin_key:",
            "  - {name: a, key: " + OWN_KEY + ", role: admin}",
            "  - {name: b, key: other-" + OWN_KEY + ", role: [viewer]}"),
        "deployment.admin.admin_key[1].role",
        "single value");
  }

  @Test
  void refusesEmptyAndRepeatedKeysWherEverTheApiListens() {
    assertRefused(
        admin(keyEntry("''", "admin")), "deployment.admin.admin_key[0].key", "must not be empty");
    assertRefused(
        admin(keyEntry("''", "admin", "admin_listen: {ip: 127.0.0.1, port: 9180}")),
        "deployment.admin.admin_key[0].key",
        "must not be empty");
    assertRefused(
        admin(
            "admin_key:",
            "  - {name: a, key: " + OWN_KEY + ", role: admin}",
            "  - {name: b, key: " + OWN_KEY + ", role: viewer}"),
        "deployment.admin.admin_key[1].key",
        "same key as admin_key[0].key");
    assertRefused(
        "deployment:\n  admin:\n    admin_listen: {port: 9180}\n",
        "deployment.admin.admin_key",
        "required");
  }

  @Test
  void refusesEveryPublishedKeyOffLoopbackWithoutPrintingIt() {
    List<String> published =
        List.of(
            "edd1c9f034335f136f87ad84b625c8f1",
            "4054f7cf07e344346cd3f287985e76a2",
            "change-me-demo-admin-key",
            "bench-admin-key-not-secret");
    for (String key : published) {
      for (String ip : List.of("0.0.0.0", "10.1.2.3", "::", "localhost")) {
        String yaml =
            admin(
                "admin_key:",
                "  - {name: mine, key: " + OWN_KEY + ", role: admin}",
                "  - {name: viewer, key: " + key + ", role: viewer}",
                "admin_listen: {ip: '" + ip + "', port: 9180}");
        assertRefused(yaml, "deployment.admin.admin_key[1].key", "which anyone can read");
        assertThatThrownBy(() -> parse(yaml)).message().doesNotContain(key);
      }
    }
  }

  @Test
  void onLoopbackAPublishedKeyStartsWithOneWarningNamingThePathNotTheKey() {
    for (String ip : List.of("127.0.0.1", "127.0.0.9", "::1")) {
      AdminConfig config =
          parse(
              admin(
                  with(
                      keyEntry("change-me-demo-admin-key", "admin"),
                      "admin_listen: {ip: '" + ip + "', port: 9180}")));
      assertThat(config.warnings()).hasSize(1);
      assertThat(config.warnings().get(0))
          .startsWith("deployment.admin.admin_key[0].key is the demo admin key")
          .contains("BALLAST_ADMIN_KEY")
          .doesNotContain("change-me-demo-admin-key");
    }
  }

  @Test
  void aKeylessApiIsRefusedOffLoopbackAndWarnedAboutOnIt() {
    assertRefused(
        admin("admin_key_required: false", "admin_listen: {ip: 0.0.0.0, port: 9180}"),
        "deployment.admin.admin_key_required",
        "without a key");

    AdminConfig local = parse(admin("admin_key_required: false"));
    assertThat(local.keyRequired()).isFalse();
    assertThat(local.access().keys()).isEmpty();
    assertThat(local.warnings())
        .singleElement()
        .asString()
        .startsWith("deployment.admin.admin_key_required is false");
  }

  @Test
  void allowAdminIsAListOfCidrsAndAnEmptyOneServesNobody() {
    String[] own = keyEntry(OWN_KEY, "admin");
    assertRefused(
        admin(with(own, "allow_admin: [10.0.0.0/8, 10.0.0.0/33]")),
        "deployment.admin.allow_admin[1]",
        "prefix length");
    assertRefused(
        admin(with(own, "allow_admin: [cp.internal]")),
        "deployment.admin.allow_admin[0]",
        "not an IPv4 or IPv6 address");
    assertRefused(
        admin(with(own, "allow_admin:")), "deployment.admin.allow_admin", "0.0.0.0/0 and ::/0");

    AdminConfig nobody = parse(admin(with(own, "allow_admin: []")));
    assertThat(nobody.allowed()).isEmpty();
    assertThat(nobody.warnings()).singleElement().asString().contains("refuses every client");
  }

  @Test
  void refusesApisixSettingsBallastWouldOtherwiseIgnoreUnsafely() {
    String[] own = keyEntry(OWN_KEY, "admin");
    assertRefused(
        admin(with(own, "https_admin: true")), "deployment.admin.https_admin", "not supported");
    assertRefused(
        admin(with(own, "admin_api_version: default")),
        "deployment.admin.admin_api_version",
        "must be v3");
  }

  @Test
  void aNodeThatServesNoAdminApiNeedsNoKeyAndIsNotWarned() {
    AdminConfig dataPlane =
        parse(
            admin(
                with(
                    keyEntry("change-me-demo-admin-key", "admin"),
                    "admin_listen: {ip: 0.0.0.0, port: 9180}")),
            false);
    assertThat(dataPlane.warnings()).isEmpty();
    assertThat(parse("deployment:\n  role: data_plane\n", false).keys()).isEmpty();
    assertRefused(
        "deployment:\n  admin:\n    admin_key_requird: true\n",
        "deployment.admin.admin_key_requird",
        "unknown key");
  }

  @Test
  void loopbackIsAnIpLiteralOfThisHostOnly() {
    assertThat(new Listen("127.0.0.1", 1).isLoopback()).isTrue();
    assertThat(new Listen("127.3.4.5", 1).isLoopback()).isTrue();
    assertThat(new Listen("::1", 1).isLoopback()).isTrue();
    assertThat(new Listen("0.0.0.0", 1).isLoopback()).isFalse();
    assertThat(new Listen("::", 1).isLoopback()).isFalse();
    assertThat(new Listen("192.168.1.10", 1).isLoopback()).isFalse();
    assertThat(new Listen("localhost", 1).isLoopback()).isFalse();
    assertThat(new Listen("127.0.0.0/8", 1).isLoopback()).isFalse();
  }

  /** The README's run command: the shipped file, no environment, still starts (on loopback). */
  @Test
  void theShippedConfigStartsOutOfTheBoxOnLoopbackAndWarns() {
    Path shipped = repository().resolve("conf/config.yaml");
    NodeConfig demo = NodeConfig.parse(ConfigLoader.load(shipped, name -> null), "host");
    assertThat(demo.admin().listen().isLoopback()).isTrue();
    assertThat(demo.admin().warnings()).singleElement().asString().contains("admin_key[0].key");

    NodeConfig own =
        NodeConfig.parse(
            ConfigLoader.load(shipped, name -> name.equals("BALLAST_ADMIN_KEY") ? OWN_KEY : null),
            "host");
    assertThat(own.admin().warnings()).isEmpty();
  }

  /**
   * Every key written in the repository's configurations, scripts and README is on the list of
   * published secrets, so that adding a demo key without listing it fails here.
   */
  @Test
  void everyKeyShippedInThisRepositoryIsKnownToBePublic() throws IOException {
    Path root = repository();
    List<Path> files = new ArrayList<>(List.of(root.resolve("README.md")));
    for (String folder : List.of("conf", "examples", "bench")) {
      try (Stream<Path> found = Files.walk(root.resolve(folder))) {
        found.filter(Files::isRegularFile).forEach(files::add);
      }
    }
    // key: VALUE, key: ${{VAR:=VALUE}}, X-API-KEY: VALUE, admin_key=VALUE
    Pattern shipped =
        Pattern.compile(
            "(?:\\bkey: *(?:\\$\\{\\{ *\\w+ *:= *)?|X-API-KEY: *|admin_key=)([\\w.-]{8,})");
    List<String> found = new ArrayList<>();
    for (Path file : files) {
      Matcher matcher = shipped.matcher(Files.readString(file));
      while (matcher.find()) {
        found.add(matcher.group(1));
        assertThat(PublicSecrets.whereKnown(matcher.group(1)))
            .as("%s in %s", matcher.group(1), root.relativize(file))
            .isPresent();
      }
    }
    assertThat(found)
        .contains("change-me-demo-admin-key", "bench-admin-key-not-secret", "startup-bench-key");
  }

  /** The repository's root: tests run in the module's folder. */
  private static Path repository() {
    Path here = Path.of("").toAbsolutePath();
    return Files.exists(here.resolve("conf/config.yaml")) ? here : here.getParent();
  }
}
