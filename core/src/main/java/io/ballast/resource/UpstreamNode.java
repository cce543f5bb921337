package io.ballast.resource;

import java.util.Objects;

/**
 * One upstream server, its balancing weight and its APISIX {@code priority}: nodes of a lower
 * priority serve a request only after every node of a higher one failed it.
 */
public record UpstreamNode(String host, int port, int weight, int priority) {

  /** A node of the default priority, 0. */
  public UpstreamNode(String host, int port, int weight) {
    this(host, port, weight, 0);
  }

  public UpstreamNode {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be between 1 and 65535, got " + port);
    }
    if (weight < 0) {
      throw new IllegalArgumentException("weight must not be negative, got " + weight);
    }
  }

  /** {@code host:port}, with an IPv6 literal in brackets; what URLs and access logs show. */
  public String authority() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
