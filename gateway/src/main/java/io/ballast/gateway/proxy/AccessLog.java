package io.ballast.gateway.proxy;

import io.ballast.gateway.plugin.Exchange;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.SignalType;
import reactor.netty.http.server.HttpServerResponse;

/** One line per request, matched or not, to the {@code ballast.access} logger. */
final class AccessLog {

  private static final Logger ACCESS = LoggerFactory.getLogger("ballast.access");

  /** nginx's code for a client that went away before the response was complete. */
  private static final int CLIENT_CLOSED = 499;

  private AccessLog() {}

  /**
   * The status the client got. Like nginx: 499 only when the client left before the response
   * started; Reactor Netty may also cancel an exchange whose response it has completed, so a cancel
   * alone says nothing.
   */
  static int loggedStatus(HttpServerResponse response, SignalType signal) {
    return signal == SignalType.CANCEL && !response.hasSentHeaders()
        ? CLIENT_CLOSED
        : response.status().code();
  }

  static void log(String method, String path, Exchange exchange) {
    if (!ACCESS.isInfoEnabled()) {
      return;
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - exchange.startNanos());
    String routeId = exchange.routeId() == null ? "-" : exchange.routeId();
    String node = exchange.upstreamNode() == null ? "-" : exchange.upstreamNode();
    long upstreamMillis =
        exchange.upstreamNanos() < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(exchange.upstreamNanos());
    // No query string, headers or bodies: they may carry credentials.
    ACCESS.info(
        "{} {} {} route={} upstream={} {}ms upstream_time={}ms",
        method,
        path,
        exchange.status(),
        routeId,
        node,
        millis,
        upstreamMillis);
  }
}
