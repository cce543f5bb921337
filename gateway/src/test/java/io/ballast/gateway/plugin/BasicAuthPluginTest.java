package io.ballast.gateway.plugin;

import static io.ballast.gateway.plugin.PluginTesting.config;
import static io.ballast.gateway.plugin.PluginTesting.exchange;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BasicAuthPluginTest {

  private static final String JACK =
      "{'username': 'jack', 'plugins': {'basic-auth': {'username': 'jack-user',"
          + " 'password': 's3cret-jack'}}}";
  private static final String ROSE =
      "{'username': 'rose', 'plugins': {'basic-auth': {'username': 'rose-user',"
          + " 'password': 'pässwörd:with colon'}}}";

  private static String basic(String userAndPassword) {
    return "Basic "
        + Base64.getEncoder().encodeToString(userAndPassword.getBytes(StandardCharsets.UTF_8));
  }

  private static Exchange withAuthorization(String value) {
    return exchange(TestRouteRequest.get("/"), null, "Authorization", value, "x-keep", "1");
  }

  private static void assertUnauthorized(Reply reply, String message) {
    assertThat(reply).isNotNull();
    assertThat(reply.status()).isEqualTo(401);
    assertThat(new String(reply.body(), StandardCharsets.UTF_8))
        .isEqualTo("{\"message\":\"" + message + "\"}");
    assertThat(reply.headers().get("WWW-Authenticate")).isEqualTo("Basic realm='.'");
  }

  @Test
  void rightUsernameAndPasswordIdentifyTheConsumerAndArePassedOn() {
    PluginTesting.Config config = config(JACK, ROSE).route("{'basic-auth': {}}");
    Exchange exchange = withAuthorization(basic("jack-user:s3cret-jack"));

    assertThat(config.run(exchange)).isNull();
    assertThat(exchange.consumer().username()).isEqualTo("jack");
    assertThat(exchange.upstreamHeaders().get("Authorization"))
        .isEqualTo(basic("jack-user:s3cret-jack"));
  }

  @Test
  void passwordMayHoldColonsSpacesAndNonAsciiCharacters() {
    PluginTesting.Config config = config(JACK, ROSE).route("{'basic-auth': {}}");
    Exchange exchange = withAuthorization(basic("rose-user:pässwörd:with colon"));

    assertThat(config.run(exchange)).isNull();
    assertThat(exchange.consumer().username()).isEqualTo("rose");
  }

  @Test
  void schemeIsCaseInsensitive() {
    PluginTesting.Config config = config(JACK).route("{'basic-auth': {}}");
    String credentials = basic("jack-user:s3cret-jack").substring("Basic ".length());

    assertThat(config.run(withAuthorization("basic " + credentials))).isNull();
  }

  @Test
  void hideCredentialsRemovesTheAuthorizationHeader() {
    PluginTesting.Config config = config(JACK).route("{'basic-auth': {'hide_credentials': true}}");
    Exchange exchange = withAuthorization(basic("jack-user:s3cret-jack"));

    assertThat(config.run(exchange)).isNull();
    assertThat(exchange.upstreamHeaders().contains("Authorization")).isFalse();
    assertThat(exchange.upstreamHeaders().get("x-keep")).isEqualTo("1");
  }

  @Test
  void missingAuthorizationIsRefusedWithAChallenge() {
    PluginTesting.Config config = config(JACK).route("{'basic-auth': {}}");

    assertUnauthorized(
        config.run(exchange(TestRouteRequest.get("/"), null)), "Missing authorization in request");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Bearer abc",
        "Basic",
        "Basic ",
        "Basic !!!not-base64!!!",
        "Basic amFjay11c2Vy", // "jack-user", no colon
        "Digest username=jack-user",
      })
  void malformedAuthorizationIsRefused(String authorization) {
    PluginTesting.Config config = config(JACK).route("{'basic-auth': {}}");

    assertUnauthorized(
        config.run(withAuthorization(authorization)), "Invalid authorization in request");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "jack-user:wrong",
        "jack-user:",
        "jack-user:s3cret-jack ",
        "jack-user:s3cret-jac",
        "jack-user:S3CRET-JACK",
        "nobody:s3cret-jack",
        "rose-user:s3cret-jack",
        ":s3cret-jack",
      })
  void wrongUsernameOrPasswordIsRefused(String credentials) {
    PluginTesting.Config config = config(JACK, ROSE).route("{'basic-auth': {}}");
    Exchange exchange = withAuthorization(basic(credentials));

    assertUnauthorized(config.run(exchange), "Invalid user authorization");
    assertThat(exchange.consumer()).isNull();
  }

  @Test
  void theConsumersPluginReplacesTheRoutesPluginOfTheSameName() {
    PluginTesting.Config config =
        config(
                "{'username': 'jack', 'plugins': {'basic-auth': {'username': 'jack-user',"
                    + " 'password': 's3cret-jack'},"
                    + " 'request-id': {'header_name': 'X-Consumer-Id'}}}")
            .route("{'basic-auth': {}, 'request-id': {'header_name': 'X-Route-Id'}}");
    Exchange exchange = withAuthorization(basic("jack-user:s3cret-jack"));

    PluginRunner runner = config.runner();
    assertThat(runner.request(exchange).block(Duration.ofSeconds(10))).isNull();
    ResponseHead response = PluginTesting.respond(runner, exchange, 200);

    assertThat(response.headers().contains("X-Consumer-Id")).isTrue();
    assertThat(response.headers().contains("X-Route-Id")).isFalse();
  }

  @Test
  void twoConsumersWithTheSameUsernameAreRefusedNamingBoth() {
    assertThatThrownBy(
            () ->
                config(
                    JACK,
                    "{'username': 'rose', 'plugins': {'basic-auth': {'username': 'jack-user',"
                        + " 'password': 's3cret-rose'}}}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("consumer 'rose': plugins.basic-auth.username")
        .hasMessageContaining("consumer 'jack'")
        .hasMessageNotContaining("s3cret");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "{'password': 's3cret-x'}                           | consumer 'c1': plugins.basic-auth.username: is required",
        "{'username': 'u'}                                  | consumer 'c1': plugins.basic-auth.password: is required",
        "{'username': 'u', 'password': ''}                  | consumer 'c1': plugins.basic-auth.password: must not be empty",
        "{'username': 'u', 'password': 17}                  | consumer 'c1': plugins.basic-auth.password: must be a string",
        "{'username': '', 'password': 's3cret-x'}           | consumer 'c1': plugins.basic-auth.username: must not be empty",
        "{'username': 7, 'password': 's3cret-x'}            | consumer 'c1': plugins.basic-auth.username: must be a string",
        "{'username': 'a:b', 'password': 's3cret-x'}        | consumer 'c1': plugins.basic-auth.username: must not contain ':'",
        "{'username': 'u', 'password': 's3cret-x', 'x': 1}  | consumer 'c1': plugins.basic-auth.x: is not a field",
      })
  void badConsumerConfigurationsAreRefusedWithoutTheSecret(String basicAuth, String message) {
    String consumer = "{'username': 'c1', 'plugins': {'basic-auth': " + basicAuth + "}}";

    assertThatThrownBy(() -> config(consumer))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message)
        .hasMessageNotContaining("s3cret");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "{'hide_credentials': 1}                | route 'r1': plugins.basic-auth.hide_credentials: must be true or false",
        "{'anonymous_consumer': 'jack'}         | route 'r1': plugins.basic-auth.anonymous_consumer: is not supported",
        "{'realm': 'api'}                       | route 'r1': plugins.basic-auth.realm: is not supported",
        "{'password': 'x'}                      | route 'r1': plugins.basic-auth.password: is not a field of basic-auth",
      })
  void badRouteConfigurationsAreRefusedNamingTheField(String basicAuth, String message) {
    PluginTesting.Config config = config(JACK);

    assertThatThrownBy(() -> config.route("{'basic-auth': " + basicAuth + "}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }
}
