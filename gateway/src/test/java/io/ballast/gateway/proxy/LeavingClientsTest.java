package io.ballast.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.gateway.route.RouteTable;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.node.ObjectNode;

/**
 * A client that leaves mid-request makes the proxy close that request's upstream connection. The
 * pool may already have handed that connection to another request, whose write then fails before a
 * byte left; nginx retries such a request on a fresh connection, and so must Ballast: clients that
 * stay must never see a 502 because others left.
 */
class LeavingClientsTest {

  private final AtomicReference<RouteTable> table = new AtomicReference<>(RouteTable.empty());
  private ProxyServer proxy;
  private DisposableServer bound;
  private TestUpstream upstream;
  private ConnectionProvider staying;

  @BeforeEach
  void start() {
    upstream = new TestUpstream("one");
    ObjectNode route =
        (ObjectNode)
            TestUpstream.JSON.readTree(
                "{\"id\": \"r1\", \"uri\": \"/*\", \"upstream\": {\"nodes\": {\""
                    + upstream.address()
                    + "\": 1}}}");
    table.set(
        RouteTable.compile(
            List.of(Resource.parse(ResourceType.ROUTES, "r1", route)), Map.of(), Map.of()));
    proxy = new ProxyServer(table::get, ProxyOptions.defaults());
    bound = proxy.start("127.0.0.1", 0).block(Duration.ofSeconds(10));
    staying = ConnectionProvider.create("staying", 8);
  }

  @AfterEach
  void stop() {
    staying.dispose();
    proxy.dispose();
    upstream.close();
  }

  @Test
  void clientsThatLeaveMidRequestCostTheClientsThatStayNothing() {
    String base = "http://127.0.0.1:" + bound.port();
    HttpClient stayingClient = HttpClient.create(staying).baseUrl(base);
    // Each leaving request gets its own connection and gives up before the upstream answers.
    HttpClient leavingClient = HttpClient.newConnection().baseUrl(base);

    Mono<List<Integer>> stayed =
        Flux.range(0, 4000)
            .flatMap(
                i ->
                    stayingClient
                        .get()
                        .uri("/stay")
                        .responseSingle((response, body) -> body.then(Mono.just(response)))
                        .map(response -> response.status().code()),
                8)
            .collectList();
    Mono<List<Integer>> answeredBeforeLeaving =
        Flux.range(0, 3000)
            .flatMap(
                i ->
                    leavingClient
                        .get()
                        .uri("/leave")
                        .response()
                        .map(response -> response.status().code())
                        // Spread over the time an answer takes, so some leave as it is relayed.
                        // A new connection's answer takes 1 to over 40 ms here, depending on
                        // how the test's own threads and the proxy's share the machine.
                        .timeout(Duration.ofMillis(1 + i % 200))
                        .onErrorResume(gaveUp -> Mono.empty()),
                16)
            .collectList();

    var both = Mono.zip(stayed, answeredBeforeLeaving).block(Duration.ofSeconds(120));

    assertThat(both.getT1()).hasSize(4000).containsOnly(200);
    // A request whose client was still there when its answer came was not one that left.
    assertThat(both.getT2()).isNotEmpty().containsOnly(200);
  }
}
