package io.ballast.resource;

import java.time.Duration;
import java.util.Objects;

/**
 * APISIX's {@code upstream.keepalive_pool}: how many idle connections to keep per node, for how
 * long, and after how many requests a connection is closed instead of reused.
 */
public record KeepalivePool(int size, Duration idleTimeout, int requests) {

  /** APISIX's defaults: 320 connections, 60 seconds, 1000 requests. */
  public static final KeepalivePool DEFAULT = new KeepalivePool(320, Duration.ofSeconds(60), 1000);

  public KeepalivePool {
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    if (size < 1) {
      throw new IllegalArgumentException("size must be at least 1, got " + size);
    }
    if (idleTimeout.isNegative()) {
      throw new IllegalArgumentException("idleTimeout must not be negative, got " + idleTimeout);
    }
    if (requests < 1) {
      throw new IllegalArgumentException("requests must be at least 1, got " + requests);
    }
  }
}
