package io.ballast.gateway.plugin;

import static io.ballast.gateway.plugin.PluginTesting.config;
import static io.ballast.gateway.plugin.PluginTesting.exchange;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KeyAuthPluginTest {

  private static final String JACK =
      "{'username': 'jack', 'plugins': {'key-auth': {'key': 's3cret-jack'}}}";
  private static final String ROSE =
      "{'username': 'rose', 'plugins': {'key-auth': {'key': 's3cret-rose'}}}";

  private static String body(Reply reply) {
    return new String(reply.body(), StandardCharsets.UTF_8);
  }

  @Test
  void keyInDefaultHeaderIdentifiesTheConsumerAndIsPassedOn() {
    PluginTesting.Config config = config(JACK, ROSE).route("{'key-auth': {}}");
    Exchange exchange = exchange(TestRouteRequest.get("/a"), null, "apikey", "s3cret-rose");

    assertThat(config.run(exchange)).isNull();
    assertThat(exchange.consumer().username()).isEqualTo("rose");
    assertThat(exchange.variable("consumer_name")).isEqualTo("rose");
    assertThat(exchange.upstreamHeaders().get("apikey")).isEqualTo("s3cret-rose");
  }

  @Test
  void keyInDefaultQueryParameterIdentifiesTheConsumer() {
    PluginTesting.Config config = config(JACK, ROSE).route("{'key-auth': {}}");
    Exchange exchange =
        exchange(TestRouteRequest.get("/a").arg("apikey", "s3cret-jack"), "apikey=s3cret-jack");

    assertThat(config.run(exchange)).isNull();
    assertThat(exchange.consumer().username()).isEqualTo("jack");
    assertThat(exchange.upstreamUri()).isEqualTo("/a?apikey=s3cret-jack");
  }

  @Test
  void configuredHeaderAndQueryNamesAreRead() {
    PluginTesting.Config config =
        config(JACK).route("{'key-auth': {'header': 'X-Api-Key', 'query': 'token'}}");

    Exchange byHeader = exchange(TestRouteRequest.get("/"), null, "x-api-key", "s3cret-jack");
    Exchange byQuery =
        exchange(TestRouteRequest.get("/").arg("token", "s3cret-jack"), "token=s3cret-jack");
    Exchange byDefaultName = exchange(TestRouteRequest.get("/"), null, "apikey", "s3cret-jack");

    assertThat(config.run(byHeader)).isNull();
    assertThat(config.run(byQuery)).isNull();
    assertThat(body(config.run(byDefaultName)))
        .isEqualTo("{\"message\":\"Missing API key in request\"}");
  }

  @Test
  void missingKeyIsRefusedWith401() {
    PluginTesting.Config config = config(JACK).route("{'key-auth': {}}");

    Reply reply = config.run(exchange(TestRouteRequest.get("/"), null));

    assertThat(reply.status()).isEqualTo(401);
    assertThat(body(reply)).isEqualTo("{\"message\":\"Missing API key in request\"}");
    assertThat(reply.headers().get("Content-Type")).isEqualTo("application/json");
  }

  @Test
  void unknownKeyIsRefusedWith401() {
    PluginTesting.Config config = config(JACK).route("{'key-auth': {}}");

    Exchange exchange = exchange(TestRouteRequest.get("/"), null, "apikey", "s3cret-nobody");
    Reply reply = config.run(exchange);

    assertThat(reply.status()).isEqualTo(401);
    assertThat(body(reply)).isEqualTo("{\"message\":\"Invalid API key in request\"}");
    assertThat(exchange.consumer()).isNull();
  }

  @Test
  void withoutConsumersEveryKeyIsInvalid() {
    PluginTesting.Config config = config().route("{'key-auth': {}}");

    Reply reply = config.run(exchange(TestRouteRequest.get("/"), null, "apikey", "anything"));

    assertThat(body(reply)).isEqualTo("{\"message\":\"Invalid API key in request\"}");
  }

  @Test
  void headerWinsOverQueryParameter() {
    PluginTesting.Config config = config(JACK).route("{'key-auth': {}}");
    Exchange exchange =
        exchange(
            TestRouteRequest.get("/").arg("apikey", "s3cret-jack"),
            "apikey=s3cret-jack",
            "apikey",
            "wrong");

    assertThat(body(config.run(exchange)))
        .isEqualTo("{\"message\":\"Invalid API key in request\"}");
  }

  @Test
  void hideCredentialsRemovesTheHeaderOnly() {
    PluginTesting.Config config = config(JACK).route("{'key-auth': {'hide_credentials': true}}");
    Exchange exchange =
        exchange(
            TestRouteRequest.get("/a").arg("apikey", "other"),
            "apikey=other",
            "apikey",
            "s3cret-jack",
            "x-keep",
            "1");

    assertThat(config.run(exchange)).isNull();
    assertThat(exchange.upstreamHeaders().contains("apikey")).isFalse();
    assertThat(exchange.upstreamHeaders().get("x-keep")).isEqualTo("1");
    // The key came from the header, so the query is left alone, as in APISIX.
    assertThat(exchange.upstreamUri()).isEqualTo("/a?apikey=other");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "apikey=s3cret-jack                          | /a",
        "a=1&apikey=s3cret-jack&b=x%20y+z&c          | /a?a=1&b=x%20y+z&c",
        "apikey=s3cret-jack&a=%2F%3F                 | /a?a=%2F%3F",
        "api%6Bey=s3cret-jack&a=1&apikey=s3cret-jack | /a?a=1",
        "a=1&&apikey=s3cret-jack                     | /a?a=1",
        "apikeys=1&apikey=s3cret-jack&xapikey=2      | /a?apikeys=1&xapikey=2",
      })
  void hideCredentialsRemovesTheQueryParameterAndKeepsTheRestAsSent(String query, String uri) {
    PluginTesting.Config config = config(JACK).route("{'key-auth': {'hide_credentials': true}}");
    Exchange exchange =
        exchange(TestRouteRequest.get("/a").arg("apikey", "s3cret-jack"), query, "x-keep", "1");

    assertThat(config.run(exchange)).isNull();
    assertThat(exchange.upstreamUri()).isEqualTo(uri);
    assertThat(exchange.upstreamHeaders().get("x-keep")).isEqualTo("1");
  }

  @Test
  void withoutHideCredentialsTheHeaderIsKept() {
    PluginTesting.Config config = config(JACK).route("{'key-auth': {'hide_credentials': false}}");
    Exchange exchange = exchange(TestRouteRequest.get("/"), null, "apikey", "s3cret-jack");

    assertThat(config.run(exchange)).isNull();
    assertThat(exchange.upstreamHeaders().get("apikey")).isEqualTo("s3cret-jack");
  }

  @Test
  void theConsumersPluginReplacesTheRoutesPluginOfTheSameName() {
    PluginTesting.Config config =
        config(
                "{'username': 'jack', 'plugins': {'key-auth': {'key': 's3cret-jack'},"
                    + " 'request-id': {'header_name': 'X-Consumer-Id'}}}",
                ROSE)
            .route("{'key-auth': {}, 'request-id': {'header_name': 'X-Route-Id'}}");

    Exchange jack = exchange(TestRouteRequest.get("/"), null, "apikey", "s3cret-jack");
    PluginRunner jackRunner = config.runner();
    assertThat(jackRunner.request(jack).block(Duration.ofSeconds(10))).isNull();
    ResponseHead jackResponse = PluginTesting.respond(jackRunner, jack, 200);

    assertThat(jack.upstreamHeaders().contains("X-Consumer-Id")).isTrue();
    assertThat(jackResponse.headers().contains("X-Consumer-Id")).isTrue();
    assertThat(jackResponse.headers().contains("X-Route-Id")).isFalse();

    // A consumer without its own request-id keeps the route's.
    Exchange rose = exchange(TestRouteRequest.get("/"), null, "apikey", "s3cret-rose");
    PluginRunner roseRunner = config.runner();
    assertThat(roseRunner.request(rose).block(Duration.ofSeconds(10))).isNull();
    ResponseHead roseResponse = PluginTesting.respond(roseRunner, rose, 200);
    assertThat(roseResponse.headers().contains("X-Route-Id")).isTrue();
    assertThat(roseResponse.headers().contains("X-Consumer-Id")).isFalse();
  }

  @Test
  void twoConsumersWithTheSameKeyAreRefusedNamingBothButNotTheKey() {
    assertThatThrownBy(
            () ->
                config(
                    JACK, "{'username': 'rose', 'plugins': {'key-auth': {'key': 's3cret-jack'}}}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("consumer 'rose': plugins.key-auth.key")
        .hasMessageContaining("consumer 'jack'")
        .hasMessageNotContaining("s3cret");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "{}                                          | consumer 'c1': plugins.key-auth.key: is required",
        "{'key': 17}                                 | consumer 'c1': plugins.key-auth.key: must be a string",
        "{'key': ''}                                 | consumer 'c1': plugins.key-auth.key: must not be empty",
        "{'key': ['s3cret-x']}                       | consumer 'c1': plugins.key-auth.key: must be a string",
        "{'key': 's3cret-x', 'header': 'h'}          | consumer 'c1': plugins.key-auth.header: is not a field",
        "{'key': 's3cret-x', 'keys': ['s3cret-y']}   | consumer 'c1': plugins.key-auth.keys: is not a field",
      })
  void badConsumerConfigurationsAreRefusedWithoutTheSecret(String keyAuth, String message) {
    String consumer = "{'username': 'c1', 'plugins': {'key-auth': " + keyAuth + "}}";

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
        "{'header': 1}                             | route 'r1': plugins.key-auth.header: must be a string",
        "{'header': ' '}                           | route 'r1': plugins.key-auth.header: must not be blank",
        "{'query': true}                           | route 'r1': plugins.key-auth.query: must be a string",
        "{'query': ''}                             | route 'r1': plugins.key-auth.query: must not be blank",
        "{'hide_credentials': 'yes'}               | route 'r1': plugins.key-auth.hide_credentials: must be true or false",
        "{'anonymous_consumer': 'jack'}            | route 'r1': plugins.key-auth.anonymous_consumer: is not supported",
        "{'realm': 'api'}                          | route 'r1': plugins.key-auth.realm: is not supported",
        "{'key': 'x'}                              | route 'r1': plugins.key-auth.key: is not a field of key-auth",
      })
  void badRouteConfigurationsAreRefusedNamingTheField(String keyAuth, String message) {
    PluginTesting.Config config = config(JACK);

    assertThatThrownBy(() -> config.route("{'key-auth': " + keyAuth + "}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(message);
  }
}
