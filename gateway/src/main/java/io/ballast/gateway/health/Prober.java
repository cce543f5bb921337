package io.ballast.gateway.health;

import io.ballast.resource.HealthCheckConfig.Active;
import io.ballast.resource.HealthCheckConfig.Header;
import io.ballast.resource.HealthCheckConfig.ProbeType;
import io.ballast.resource.UpstreamNode;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.timeout.ReadTimeoutException;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SNIHostName;
import reactor.core.publisher.Mono;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.client.HttpClient;
import reactor.netty.tcp.TcpClient;

/**
 * One active probe of one node, built once per node. Each probe opens its own connection (no pool):
 * what is checked is that the node accepts and answers now, not that an old connection lives.
 */
final class Prober {

  /** What a probe saw. {@code status} is set for {@link Kind#STATUS} only. */
  record Result(Kind kind, int status) {
    enum Kind {
      STATUS,
      CONNECTED,
      TCP_FAILURE,
      TIMEOUT
    }
  }

  private final Active active;
  private final Mono<Result> probe;

  Prober(Active active, UpstreamNode node) {
    this.active = active;
    String host = node.host();
    int port = active.port() != 0 ? active.port() : node.port();
    this.probe =
        (active.type() == ProbeType.TCP ? tcpProbe(host, port) : httpProbe(host, port))
            .timeout(active.timeout())
            .onErrorResume(e -> Mono.just(failure(e)));
  }

  /** Cold: each subscription is one probe. Never errors. */
  Mono<Result> probe() {
    return probe;
  }

  private static Mono<Result> tcpProbe(String host, int port) {
    return TcpClient.newConnection()
        .host(host)
        .port(port)
        .connect()
        .map(
            connection -> {
              connection.dispose();
              return new Result(Result.Kind.CONNECTED, 0);
            });
  }

  private Mono<Result> httpProbe(String host, int port) {
    HttpClient client =
        HttpClient.newConnection()
            .host(host)
            .port(port)
            .followRedirect(false)
            .headers(
                headers -> {
                  if (active.host() != null) {
                    headers.set(HttpHeaderNames.HOST, active.host());
                  }
                  for (Header header : active.requestHeaders()) {
                    headers.add(header.name(), header.value());
                  }
                });
    if (active.type() == ProbeType.HTTPS) {
      Http11SslContextSpec spec = Http11SslContextSpec.forClient();
      if (!active.verifyCertificate()) {
        spec =
            spec.configure(builder -> builder.trustManager(InsecureTrustManagerFactory.INSTANCE));
      }
      Http11SslContextSpec sslContext = spec;
      String serverName = active.host() != null ? active.host() : host;
      client =
          client.secure(
              ssl -> {
                var builder = ssl.sslContext(sslContext);
                if (serverName.indexOf(':') < 0 && !serverName.matches("[0-9.]+")) {
                  builder.serverNames(new SNIHostName(serverName));
                }
              });
    }
    return client
        .get()
        .uri(active.httpPath())
        .response()
        .map(response -> new Result(Result.Kind.STATUS, response.status().code()));
  }

  /** As lua-resty-healthcheck: a timeout counts as a timeout, anything else as a TCP failure. */
  private static Result failure(Throwable e) {
    boolean timeout =
        e instanceof TimeoutException
            || e instanceof ConnectTimeoutException
            || e instanceof ReadTimeoutException;
    return new Result(timeout ? Result.Kind.TIMEOUT : Result.Kind.TCP_FAILURE, 0);
  }
}
