package io.ballast.gateway.proxy;

import io.ballast.gateway.plugin.Exchange;
import io.ballast.gateway.plugin.PluginRunner;
import io.ballast.gateway.plugin.Reply;
import io.ballast.gateway.plugin.ResponseHead;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.util.Map;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;

/** Replies that do not come from an upstream: the gateway's errors and the replies of plugins. */
final class Replies {

  private Replies() {}

  /** Sends a reply made by a plugin or the gateway, after the plugins have seen its head. */
  static Mono<Void> send(
      HttpServerResponse response, Exchange exchange, PluginRunner plugins, Reply reply) {
    ResponseHead head = new ResponseHead(reply.status(), reply.headers(), false);
    head.headers().set(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(reply.body().length));
    plugins.responseHead(exchange, head);
    byte[] body = head.replacementBody() != null ? head.replacementBody() : reply.body();
    exchange.addBytesSent(body.length);
    response.status(head.status());
    response.headers(head.headers());
    return body.length == 0 ? response.send() : response.sendByteArray(Mono.just(body)).then();
  }

  /** An APISIX-style error: {@code {"error_msg": message}}. */
  static Reply error(int status, String message) {
    return Reply.json(status, Map.of("error_msg", message));
  }

  /** The answer when no node could be used, or the upstream failed before its response. */
  static Reply badGateway() {
    return error(502, "502 Bad Gateway");
  }

  /** The answer when the upstream did not connect or answer in time. */
  static Reply gatewayTimeout() {
    return error(504, "504 Gateway Timeout");
  }
}
