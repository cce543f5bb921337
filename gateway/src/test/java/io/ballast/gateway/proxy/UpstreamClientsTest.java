package io.ballast.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.resource.UpstreamSpec;
import io.netty.channel.ChannelOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;
import tools.jackson.databind.node.ObjectNode;

class UpstreamClientsTest {

  private final LoopResources loops = LoopResources.create("clients-test", 1, true);

  /** Five connections per node unless an upstream's keepalive_pool says otherwise. */
  private final UpstreamClients clients =
      new UpstreamClients(
          loops, new ProxyOptions(1, 5, Duration.ofSeconds(60), Duration.ofSeconds(60)));

  @AfterEach
  void stop() {
    clients.dispose();
    loops.disposeLater(Duration.ZERO, Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
  }

  private static Upstream upstream(String json) {
    ObjectNode value = (ObjectNode) Json.mapper().readTree(json.replace('\'', '"'));
    Resource resource = Resource.parse(ResourceType.UPSTREAMS, "u1", value);
    return Upstream.compile(resource.spec(UpstreamSpec.class), resource.owner());
  }

  @Test
  void upstreamsWithTheSameSettingsShareAClient() {
    HttpClient one = clients.pooled(upstream("{'nodes': {'10.0.0.1:80': 1}}"));

    assertThat(clients.pooled(upstream("{'nodes': {'10.0.0.2:8080': 1}}"))).isSameAs(one);
    assertThat(clients.pooled(upstream("{'scheme': 'https', 'nodes': {'10.0.0.1:443': 1}}")))
        .isNotSameAs(one);
    assertThat(
            clients.pooled(
                upstream(
                    "{'timeout': {'connect': 2, 'send': 60, 'read': 60}, 'nodes': {'10.0.0.1:80': 1}}")))
        .isNotSameAs(one);
    assertThat(
            clients.pooled(
                upstream("{'keepalive_pool': {'size': 7}, 'nodes': {'10.0.0.1:80': 1}}")))
        .isNotSameAs(one);
  }

  @Test
  void clientsRunOnTheProxysLoopsWithTheUpstreamsConnectTimeout() {
    Upstream upstream =
        upstream(
            "{'timeout': {'connect': 2, 'send': 60, 'read': 60}, 'nodes': {'10.0.0.1:80': 1}}");

    for (HttpClient client :
        new HttpClient[] {clients.pooled(upstream), clients.unpooled(upstream)}) {
      assertThat(client.configuration().loopResources()).isSameAs(loops);
      assertThat(client.configuration().options().get(ChannelOption.CONNECT_TIMEOUT_MILLIS))
          .isEqualTo(2000);
      assertThat(client.configuration().followRedirectPredicate()).isNull();
      assertThat(client.configuration().isSecure()).isFalse();
    }
  }

  @Test
  void httpsUpstreamsGetTls() {
    Upstream upstream = upstream("{'scheme': 'https', 'nodes': {'10.0.0.1:443': 1}}");

    assertThat(clients.pooled(upstream).configuration().isSecure()).isTrue();
    assertThat(clients.unpooled(upstream).configuration().isSecure()).isTrue();
  }

  @Test
  void httpIsPooledByKeepalivePoolAndWebSocketsAreNotPooled() {
    Upstream upstream = upstream("{'keepalive_pool': {'size': 7}, 'nodes': {'10.0.0.1:80': 1}}");
    Upstream withoutPool = upstream("{'nodes': {'10.0.0.1:80': 1}}");

    assertThat(clients.pooled(upstream).configuration().connectionProvider().maxConnections())
        .isEqualTo(7);
    assertThat(clients.pooled(withoutPool).configuration().connectionProvider().maxConnections())
        .isEqualTo(5);
    assertThat(clients.unpooled(upstream).configuration().connectionProvider())
        .isSameAs(ConnectionProvider.newConnection());
    // The keepalive pool does not matter to a client that keeps no connection.
    assertThat(
            clients.unpooled(
                upstream("{'keepalive_pool': {'size': 9}, 'nodes': {'10.0.0.2:80': 1}}")))
        .isSameAs(clients.unpooled(upstream));
  }

  @Test
  void disposeClosesThePools() {
    ConnectionProvider pool =
        clients
            .pooled(upstream("{'nodes': {'10.0.0.1:80': 1}}"))
            .configuration()
            .connectionProvider();

    clients.dispose();

    assertThat(pool.isDisposed()).isTrue();
  }
}
