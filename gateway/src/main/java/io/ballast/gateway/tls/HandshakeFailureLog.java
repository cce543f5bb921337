package io.ballast.gateway.tls;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs a connection's failed TLS handshake in one INFO line, with the client's address and the
 * reason and without a stack trace: scanners cause these all day, and nginx, too, logs them below
 * warn. Netty may report one failure several times; this logs the first. One instance per channel.
 */
public final class HandshakeFailureLog extends ChannelInboundHandlerAdapter {

  private static final Logger LOG = LoggerFactory.getLogger(HandshakeFailureLog.class);

  private boolean logged;

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    SSLException tls = tlsCause(cause);
    if (tls != null && !logged) {
      logged = true;
      LOG.info("TLS with {} failed: {}", ctx.channel().remoteAddress(), tls.getMessage());
    }
    ctx.fireExceptionCaught(cause);
  }

  private static SSLException tlsCause(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SSLException tls) {
        return tls;
      }
    }
    return null;
  }
}
