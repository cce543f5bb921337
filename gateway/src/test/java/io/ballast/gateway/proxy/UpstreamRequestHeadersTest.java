package io.ballast.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.resource.UpstreamSpec;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

/** The Host an upstream gets by {@code pass_host}; X-Forwarded-* are covered by the proxy tests. */
class UpstreamRequestHeadersTest {

  private static final HttpHeaders CLIENT = new DefaultHttpHeaders().set("Host", "api.example.com");
  private static final HttpHeaders NO_HOST = new DefaultHttpHeaders();

  private static Upstream upstream(String json) {
    ObjectNode value = (ObjectNode) Json.mapper().readTree(json.replace('\'', '"'));
    Resource resource = Resource.parse(ResourceType.UPSTREAMS, "u1", value);
    return Upstream.compile(resource.spec(UpstreamSpec.class), resource.owner());
  }

  private static String host(HttpHeaders client, String upstreamJson) {
    Upstream upstream = upstream(upstreamJson);
    return UpstreamRequestHeaders.host(client, upstream, upstream.nodes().get(0));
  }

  @Test
  void passSendsTheClientsHostOrTheNodesAddressWithoutOne() {
    assertThat(host(CLIENT, "{'nodes': {'10.0.0.1:8080': 1}}")).isEqualTo("api.example.com");
    assertThat(host(CLIENT, "{'pass_host': 'pass', 'nodes': {'10.0.0.1:8080': 1}}"))
        .isEqualTo("api.example.com");
    assertThat(host(NO_HOST, "{'nodes': {'10.0.0.1:8080': 1}}")).isEqualTo("10.0.0.1:8080");
  }

  @Test
  void nodeSendsTheNodesAddressWithoutTheSchemesDefaultPort() {
    assertThat(host(CLIENT, "{'pass_host': 'node', 'nodes': {'backend:80': 1}}"))
        .isEqualTo("backend");
    assertThat(host(CLIENT, "{'pass_host': 'node', 'nodes': {'backend:8080': 1}}"))
        .isEqualTo("backend:8080");
    assertThat(
            host(CLIENT, "{'pass_host': 'node', 'scheme': 'https', 'nodes': {'backend:443': 1}}"))
        .isEqualTo("backend");
    assertThat(host(CLIENT, "{'pass_host': 'node', 'scheme': 'https', 'nodes': {'backend:80': 1}}"))
        .isEqualTo("backend:80");
    assertThat(host(CLIENT, "{'pass_host': 'node', 'nodes': {'[2001:db8::1]:80': 1}}"))
        .isEqualTo("[2001:db8::1]");
    assertThat(host(CLIENT, "{'pass_host': 'node', 'nodes': {'[2001:db8::1]:8080': 1}}"))
        .isEqualTo("[2001:db8::1]:8080");
  }

  @Test
  void rewriteSendsTheUpstreamHost() {
    assertThat(
            host(
                CLIENT,
                "{'pass_host': 'rewrite', 'upstream_host': 'backend.internal',"
                    + " 'nodes': {'10.0.0.1:8080': 1}}"))
        .isEqualTo("backend.internal");
  }
}
