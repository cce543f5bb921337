package io.ballast.resource;

import java.time.Duration;
import java.util.Objects;

/**
 * APISIX's {@code upstream.timeout}: connect, send (between two writes) and read (between two reads
 * of the response).
 */
public record UpstreamTimeouts(Duration connect, Duration send, Duration read) {

  /** APISIX's default: 60 seconds each. */
  public static final UpstreamTimeouts DEFAULT =
      new UpstreamTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(60));

  public UpstreamTimeouts {
    Objects.requireNonNull(connect, "connect");
    Objects.requireNonNull(send, "send");
    Objects.requireNonNull(read, "read");
  }
}
