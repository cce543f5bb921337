package io.ballast.gateway.proxy;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.timeout.ReadTimeoutException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.client.PrematureCloseException;

/** What a failure to reach an upstream says: whether it timed out, and whether to send again. */
final class UpstreamFailures {

  private static final String CLOSED_BEFORE_SEND = AbortedException.beforeSend().getMessage();

  private static final Set<String> IDEMPOTENT =
      Set.of("GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE");

  /** Reactor Netty's pool gives up with this after a few acquired connections were closed. */
  private static final String POOL_ACQUIRE_FAILED = "Error while acquiring from ";

  private UpstreamFailures() {}

  /**
   * Whether a request whose connection failed before any response may go out once more, not counted
   * against {@code retries}. A client that leaves mid-request takes its upstream connection down,
   * and the pool may have just handed that connection to another request. Always safe when nothing
   * was written (Reactor Netty's "closed BEFORE send", a write refused by a closed channel, or the
   * pool finding only closed connections); after a write only for idempotent methods, as nginx's
   * {@code proxy_next_upstream} never repeats a POST it has sent.
   */
  static boolean safeToResend(Throwable failure, String method) {
    if (failure instanceof IOException
        && String.valueOf(failure.getMessage()).startsWith(POOL_ACQUIRE_FAILED)) {
      return true;
    }
    if (failure instanceof AbortedException aborted) {
      return CLOSED_BEFORE_SEND.equals(aborted.getMessage())
          || aborted.getCause() instanceof ClosedChannelException;
    }
    return failure instanceof PrematureCloseException && IDEMPOTENT.contains(method);
  }

  /** Whether {@code failure} is a timeout: the gateway answers 504 rather than 502. */
  static boolean isTimeout(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      // Netty's read/write timeouts, pool acquire timeouts and connect timeouts.
      if (t instanceof io.netty.handler.timeout.TimeoutException
          || t instanceof TimeoutException
          || t instanceof ConnectTimeoutException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the upstream took the request but did not answer within its read timeout; such a
   * request is not tried on another node.
   */
  static boolean isReadTimeout(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ReadTimeoutException) {
        return true;
      }
    }
    return false;
  }
}
