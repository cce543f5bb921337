package io.ballast.gateway.tls;

import static io.ballast.gateway.tls.TestCertificates.commonName;
import static io.ballast.gateway.tls.TestCertificates.pem;
import static io.ballast.gateway.tls.TestCertificates.ssl;
import static io.ballast.gateway.tls.TestCertificates.sslPem;
import static io.ballast.gateway.tls.TestCertificates.with;
import static io.ballast.gateway.tls.TestCertificates.withExtraPair;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.gateway.route.RouteTable;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CertificateTableTest {

  private static CertificateTable compile(Resource... ssls) {
    return compile(CertificateTable.empty(), ssls);
  }

  private static CertificateTable compile(CertificateTable previous, Resource... ssls) {
    Map<String, Resource> byId = new HashMap<>();
    for (Resource ssl : ssls) {
      byId.put(ssl.id(), ssl);
    }
    return CertificateTable.compile(byId, previous);
  }

  private static String sslOf(CertificateTable table, String name) {
    return table.lookup(name).map(ServerCertificate::sslId).orElse(null);
  }

  @Test
  void eachSniFindsItsOwnSsl() {
    CertificateTable table =
        compile(ssl("1", "a", "a.example.com"), ssl("2", "b", "b.example.com"));

    assertThat(commonName(table.lookup("a.example.com").orElseThrow().certificate()))
        .isEqualTo("a.example.com");
    assertThat(sslOf(table, "b.example.com")).isEqualTo("2");
    assertThat(sslOf(table, "c.example.com")).isNull();
    assertThat(sslOf(table, null)).isNull();
  }

  @Test
  void namesIgnoreCaseAndATrailingDot() {
    CertificateTable table = compile(ssl("1", "a", "A.Example.COM"));

    assertThat(sslOf(table, "a.example.com.")).isEqualTo("1");
    assertThat(sslOf(table, "A.EXAMPLE.com")).isEqualTo("1");
  }

  @Test
  void aWildcardCoversOneLabelAndAnExactNameWins() {
    CertificateTable table =
        compile(ssl("1", "wild", "*.wild.example.com"), ssl("2", "a", "exact.wild.example.com"));

    assertThat(sslOf(table, "x.wild.example.com")).isEqualTo("1");
    assertThat(sslOf(table, "X.Wild.Example.com.")).isEqualTo("1");
    assertThat(sslOf(table, "exact.wild.example.com")).isEqualTo("2");
    assertThat(sslOf(table, "a.b.wild.example.com")).isNull();
    assertThat(sslOf(table, "wild.example.com")).isNull();
  }

  @Test
  void theSmallerIdWinsAShardName() {
    CertificateTable table =
        compile(ssl("2", "b", "shared.example.com"), ssl("1", "a", "shared.example.com"));

    assertThat(sslOf(table, "shared.example.com")).isEqualTo("1");
  }

  @Test
  void aDisabledSslServesNothing() {
    Resource disabled = with(ssl("1", "a", "a.example.com"), value -> value.put("status", 0));

    assertThat(compile(disabled).lookup("a.example.com")).isEmpty();
  }

  @Test
  void unchangedPemMaterialIsReusedAcrossCompilations() {
    CertificateTable first =
        compile(ssl("1", "a", "a.example.com"), ssl("2", "b", "b.example.com"));
    // ssl 1 keeps its PEMs but gains a name; ssl 2 gets another certificate.
    CertificateTable second =
        compile(
            first,
            ssl("1", "a", "a.example.com", "a2.example.com"),
            ssl("2", "wild", "b.example.com"));

    assertThat(second.lookup("a2.example.com").orElseThrow())
        .isSameAs(first.lookup("a.example.com").orElseThrow());
    assertThat(second.lookup("b.example.com").orElseThrow())
        .isNotSameAs(first.lookup("b.example.com").orElseThrow());
    assertThat(commonName(second.lookup("b.example.com").orElseThrow().certificate()))
        .isEqualTo("*.wild.example.com");
  }

  @Test
  void anRsaAndAnEcdsaPairLiveInOneSsl() {
    Resource both = ssl("1", "a", "a.example.com");
    both = withExtraPair(both, pem("a-ec.pem"), pem("a-ec.key"));

    assertThat(sslOf(compile(both), "a.example.com")).isEqualTo("1");
  }

  @Test
  void aPkcs1RsaKeyIsReadLikeItsPkcs8Form() {
    Resource pkcs1 = sslPem("1", pem("a.pem"), pem("a-pkcs1.key"), "a.example.com");

    assertThat(sslOf(compile(pkcs1), "a.example.com")).isEqualTo("1");
  }

  static Stream<Arguments> brokenSsls() {
    String certA = pem("a.pem");
    String keyA = pem("a.key");
    String keyB = pem("b.key");
    return Stream.of(
        Arguments.of("not a pem", sslPem("s1", "garbage", keyA, "a.example.com"), "cert: "),
        Arguments.of(
            "empty pem",
            sslPem("s1", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", keyA, "x.org"),
            "cert: "),
        Arguments.of("key not pem", sslPem("s1", certA, "garbage", "a.example.com"), "key: "),
        Arguments.of(
            "key of another certificate",
            sslPem("s1", certA, keyB, "a.example.com"),
            "key: does not match the certificate in cert"),
        Arguments.of(
            "truncated key",
            sslPem("s1", certA, keyA.substring(0, 200) + "\n-----END PRIVATE KEY-----\n", "a.org"),
            "key: "),
        Arguments.of(
            "encrypted key",
            sslPem(
                "s1",
                certA,
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
                "a.org"),
            "key: 'BEGIN ENCRYPTED PRIVATE KEY' keys are not supported"),
        Arguments.of(
            "extra pair mismatched", extraPair(pem("a-ec.pem"), keyB), "keys[0]: does not match"));
  }

  @Test
  void anExtraCertWithoutItsKeyIsRefusedWhenRead() {
    assertThatThrownBy(() -> extraPair(pem("a-ec.pem"), null))
        .hasMessage("ssl 's1': keys: needs one key per entry of certs: 1 certs, 0 keys");
  }

  private static Resource extraPair(String cert, String key) {
    return withExtraPair(ssl("s1", "a", "a.example.com"), cert, key);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenSsls")
  void aBrokenSslIsRefusedNamingItsIdAndField(String why, Resource ssl, String expected) {
    assertThatThrownBy(() -> compile(ssl))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("ssl 's1': ")
        .hasMessageContaining(expected)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(keyLine(ssl)));
    assertThatThrownBy(() -> CertificateTable.check(ssl))
        .hasMessageStartingWith("ssl 's1': ")
        .hasMessageContaining(expected);
  }

  /** A line of base64 from inside the key, which no message may repeat. */
  private static String keyLine(Resource ssl) {
    String[] lines = ssl.value().get("key").asString().split("\n");
    return lines.length > 2 ? lines[1] : ssl.value().get("key").asString();
  }

  @Test
  void aDisabledSslIsStillCheckedByTheAdminApi() {
    Resource broken =
        with(
            sslPem("s1", pem("a.pem"), pem("b.key"), "a.example.com"),
            value -> value.put("status", 0));

    assertThat(compile(broken).lookup("a.example.com")).isEmpty();
    assertThatThrownBy(() -> CertificateTable.check(broken))
        .hasMessage("ssl 's1': key: does not match the certificate in cert");
  }

  @Test
  void theRouteTableChecksAndCompilesSsls() {
    Resource broken = sslPem("s1", pem("a.pem"), pem("b.key"), "a.example.com");
    PluginRegistry plugins = PluginRegistry.of(List.of());

    // The Admin API's check before a write (a 400 there).
    RouteTable.check(ssl("s2", "a", "a.example.com"), plugins, List.of());
    assertThatThrownBy(() -> RouteTable.check(broken, plugins, List.of()))
        .hasMessage("ssl 's1': key: does not match the certificate in cert");

    // A data plane's compile: the snapshot is refused.
    ResourceSet withBroken = ResourceSet.builder().add(broken).build();
    assertThatThrownBy(() -> RouteTable.compile(withBroken, plugins, RouteTable.empty()))
        .hasMessageStartingWith("ssl 's1': key: ");
    ResourceSet good = ResourceSet.builder().add(ssl("s2", "a", "a.example.com")).build();
    assertThat(
            RouteTable.compile(good, plugins, RouteTable.empty())
                .certificates()
                .lookup("a.example.com"))
        .isPresent();
  }

  @Test
  void toStringNamesTheSslButNoKey() {
    ServerCertificate certificate =
        compile(ssl("1", "a", "a.example.com")).lookup("a.example.com").orElseThrow();

    assertThat(certificate.toString()).contains("ssl=1").doesNotContain("PRIVATE");
  }
}
