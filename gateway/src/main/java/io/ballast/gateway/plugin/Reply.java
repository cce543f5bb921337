package io.ballast.gateway.plugin;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/**
 * A response a plugin sends instead of the upstream's, e.g. a 401 from key-auth. Its headers may
 * still be changed by other plugins' {@link Plugin#responseHead} before it is sent.
 */
public record Reply(int status, HttpHeaders headers, byte[] body) {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** {@code {"message": message}}, the body APISIX's plugins answer with. */
  public static Reply message(int status, String message) {
    return json(status, Map.of("message", message));
  }

  /** A JSON body. */
  public static Reply json(int status, Object body) {
    HttpHeaders headers = new DefaultHttpHeaders();
    headers.set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    return new Reply(status, headers, JSON.writeValueAsBytes(body));
  }

  /** A plain-text body, sent as given. */
  public static Reply text(int status, String body) {
    HttpHeaders headers = new DefaultHttpHeaders();
    headers.set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    return new Reply(status, headers, body.getBytes(StandardCharsets.UTF_8));
  }

  /** No body. */
  public static Reply empty(int status) {
    return new Reply(status, new DefaultHttpHeaders(), new byte[0]);
  }
}
