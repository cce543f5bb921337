package io.ballast.gateway.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.gateway.http.TestRouteRequest;
import io.ballast.resource.Cidr;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

class RouteTableRemoteAddrTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String NODE = "'upstream': {'nodes': {'127.0.0.1:1980': 1}}";

  private static boolean in(String cidr, String address) throws Exception {
    return Cidr.parse(cidr).matches(InetAddress.getByName(address));
  }

  @Test
  void ipv4AddressesAndBlocks() throws Exception {
    assertThat(in("10.0.0.1", "10.0.0.1")).isTrue();
    assertThat(in("10.0.0.1", "10.0.0.2")).isFalse();
    assertThat(in("10.0.0.0/8", "10.255.1.2")).isTrue();
    assertThat(in("10.0.0.0/8", "11.0.0.0")).isFalse();
    assertThat(in("192.168.1.77/26", "192.168.1.64")).isTrue();
    assertThat(in("192.168.1.77/26", "192.168.1.127")).isTrue();
    assertThat(in("192.168.1.77/26", "192.168.1.128")).isFalse();
    assertThat(in("192.168.1.77/26", "192.168.1.63")).isFalse();
    assertThat(in("0.0.0.0/0", "203.0.113.9")).isTrue();
    assertThat(in("10.0.0.1/32", "10.0.0.1")).isTrue();
  }

  @Test
  void ipv6AddressesAndBlocksAndMappedIpv4() throws Exception {
    assertThat(in("::1", "::1")).isTrue();
    assertThat(in("::1", "::2")).isFalse();
    assertThat(in("fe80::/16", "fe80::1234:5678")).isTrue();
    assertThat(in("fe80::/16", "fe81::1")).isFalse();
    assertThat(in("2001:db8::/33", "2001:db8:7fff::1")).isTrue();
    assertThat(in("2001:db8::/33", "2001:db8:8000::1")).isFalse();
    assertThat(in("::/0", "2001:db8::1")).isTrue();
    assertThat(in("::/0", "10.0.0.1")).as("an IPv6 block never takes an IPv4 client").isFalse();
    assertThat(in("10.0.0.0/8", "::1")).isFalse();
    assertThat(in("10.0.0.0/8", "::ffff:10.1.2.3")).as("IPv4-mapped").isTrue();
    assertThat(in("::ffff:10.0.0.0/104", "10.1.2.3")).isTrue();
    assertThat(in("::ffff:10.0.0.0/104", "11.1.2.3")).isFalse();
  }

  @Test
  void badAddressesAreRefusedWithoutDns() {
    for (String bad :
        List.of(
            "10.0.0",
            "10.0.0.256",
            "10.0.0.1/33",
            "10.0.0.1/",
            "10.0.0.1/-1",
            "::1/129",
            "::ffff:10.0.0.0/95",
            "fe80:::1",
            "localhost",
            "example.com",
            "1.2.3.4.5",
            "")) {
      assertThatThrownBy(() -> Cidr.parse(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  private static RouteTable table(String... routes) {
    List<Resource> resources =
        java.util.stream.IntStream.range(0, routes.length)
            .mapToObj(
                i -> {
                  ObjectNode value = (ObjectNode) JSON.readTree(routes[i].replace('\'', '"'));
                  return Resource.parse(ResourceType.ROUTES, "r" + i, value);
                })
            .toList();
    return RouteTable.compile(resources, Map.of(), Map.of());
  }

  private static String matched(RouteTable table, TestRouteRequest request) {
    return table.match(request).map(RouteMatch::routeId).orElse(null);
  }

  @Test
  void routesMatchOnTheTcpPeerOnly() {
    RouteTable table =
        table(
            "{'uri': '/a', 'remote_addrs': ['10.0.0.0/8', '::1'], " + NODE + "}",
            "{'uri': '/a', 'remote_addr': '192.168.0.1', 'priority': -1, " + NODE + "}");

    assertThat(matched(table, TestRouteRequest.get("/a").from("10.1.1.1"))).isEqualTo("r0");
    assertThat(matched(table, TestRouteRequest.get("/a").from("::1"))).isEqualTo("r0");
    assertThat(matched(table, TestRouteRequest.get("/a").from("192.168.0.1"))).isEqualTo("r1");
    assertThat(
            matched(
                table,
                TestRouteRequest.get("/a").from("8.8.8.8").header("X-Forwarded-For", "10.1.1.1")))
        .isNull();
    assertThat(matched(table, TestRouteRequest.get("/a"))).as("unknown peer").isNull();
  }

  @Test
  void badRemoteAddrsNameRouteAndField() {
    assertThatThrownBy(
            () -> table("{'uri': '/', 'remote_addrs': ['10.0.0.0/8', 'x'], " + NODE + "}"))
        .hasMessageStartingWith("route 'r0': remote_addrs[1]: 'x' is not");
    assertThatThrownBy(() -> table("{'uri': '/', 'remote_addr': '10.0.0.0/40', " + NODE + "}"))
        .hasMessageStartingWith("route 'r0': remote_addr: '10.0.0.0/40' has a prefix length");
    assertThatThrownBy(
            () ->
                table("{'uri': '/', 'remote_addr': '::1', 'remote_addrs': ['::1'], " + NODE + "}"))
        .hasMessageStartingWith("route 'r0': remote_addrs: give either");
    assertThatThrownBy(() -> table("{'uri': '/', 'remote_addrs': [], " + NODE + "}"))
        .hasMessageStartingWith("route 'r0': remote_addrs: must not be empty");
  }
}
