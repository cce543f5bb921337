package io.ballast.gateway.plugin;

import io.netty.handler.codec.http.HttpHeaders;

/**
 * The status and headers of a response about to be sent, which {@link Plugin#responseHead} may
 * change, and the body it may replace (response-rewrite). Hop-by-hop headers are already gone.
 */
public final class ResponseHead {

  private int status;
  private final HttpHeaders headers;
  private final boolean fromUpstream;
  private byte[] replacementBody;

  public ResponseHead(int status, HttpHeaders headers, boolean fromUpstream) {
    this.status = status;
    this.headers = headers;
    this.fromUpstream = fromUpstream;
  }

  public int status() {
    return status;
  }

  public void status(int status) {
    this.status = status;
  }

  public HttpHeaders headers() {
    return headers;
  }

  /** Whether the upstream sent this response; {@code false} for a plugin's or the gateway's. */
  public boolean fromUpstream() {
    return fromUpstream;
  }

  /**
   * Sends {@code body} instead of the original one, which is then discarded unread; the
   * Content-Length is set to match.
   */
  public void replaceBody(byte[] body) {
    this.replacementBody = body;
    headers.remove("Transfer-Encoding");
    headers.set("Content-Length", Integer.toString(body.length));
  }

  /** The replacement body, or {@code null} to send the original. */
  public byte[] replacementBody() {
    return replacementBody;
  }
}
