package io.ballast.gateway.proxy;

import io.ballast.gateway.http.RouteRequest;
import io.ballast.gateway.plugin.Exchange;
import io.ballast.gateway.upstream.Upstream;
import io.ballast.resource.UpstreamNode;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import reactor.netty.http.server.HttpServerRequest;

/**
 * The headers a request to an upstream carries, HTTP or WebSocket handshake: the client's as the
 * plugins left them, Host as {@code pass_host} (or a plugin) says, and X-Forwarded-*.
 */
final class UpstreamRequestHeaders {

  private UpstreamRequestHeaders() {}

  /**
   * Fills {@code headers}, those of the request to {@code node}, for the client's {@code request};
   * whatever they held before is dropped.
   */
  static void fill(
      HttpHeaders headers,
      HttpServerRequest request,
      Upstream upstream,
      UpstreamNode node,
      Exchange exchange) {
    // Replace the client's defaults (user-agent, accept) with what the caller sent, as the plugins
    // left it.
    headers.clear();
    exchange.copyUpstreamHeadersTo(headers);
    headers.set(
        HttpHeaderNames.HOST,
        exchange.upstreamHost() != null
            ? exchange.upstreamHost()
            : host(request.requestHeaders(), upstream, node));
    addForwarded(request, headers);
  }

  /**
   * The Host for {@code node} by the upstream's {@code pass_host}: the client's ({@code pass}, the
   * node's address without one), the node's address without a default port ({@code node}), or the
   * upstream's {@code upstream_host} ({@code rewrite}).
   */
  static String host(HttpHeaders clientHeaders, Upstream upstream, UpstreamNode node) {
    return switch (upstream.passHost()) {
      case PASS -> {
        String host = clientHeaders.get(HttpHeaderNames.HOST);
        yield host != null ? host : node.authority();
      }
      case NODE -> {
        int defaultPort = upstream.scheme().equals("https") ? 443 : 80;
        yield node.port() == defaultPort
            ? node.authority().substring(0, node.authority().lastIndexOf(':'))
            : node.authority();
      }
      case REWRITE -> upstream.upstreamHost();
    };
  }

  private static void addForwarded(HttpServerRequest request, HttpHeaders headers) {
    InetSocketAddress remote = request.remoteAddress();
    if (remote != null && remote.getAddress() != null) {
      String client = remote.getAddress().getHostAddress();
      String prior = String.join(", ", request.requestHeaders().getAll("X-Forwarded-For"));
      headers.set("X-Forwarded-For", prior.isEmpty() ? client : prior + ", " + client);
    }
    headers.set("X-Forwarded-Proto", request.scheme());
    String host = RouteRequest.normalizeHost(request.requestHeaders().get(HttpHeaderNames.HOST));
    if (host != null) {
      headers.set("X-Forwarded-Host", host);
    }
    InetSocketAddress local = request.hostAddress();
    if (local != null) {
      headers.set("X-Forwarded-Port", Integer.toString(local.getPort()));
    }
  }
}
