package io.ballast.gateway.health;

/**
 * One node's health and its consecutive-event counters, as lua-resty-healthcheck keeps them: a
 * success clears the failure counters, a failure clears the success counter, and a state change
 * clears them all. A threshold of 0 turns that kind of report off. Reports come from probe
 * callbacks and proxy threads at once, so updates are synchronized; reads are not.
 */
final class NodeHealth {

  enum Failure {
    HTTP("http failure"),
    TCP("tcp failure"),
    TIMEOUT("timeout");

    private final String label;

    Failure(String label) {
      this.label = label;
    }

    /** {@code "3 timeouts"}, {@code "1 tcp failure"}. */
    String count(int n) {
      return n + " " + label + (n == 1 ? "" : "s");
    }
  }

  private volatile boolean healthy = true;
  private int successes;
  private int httpFailures;
  private int tcpFailures;
  private int timeouts;

  boolean isHealthy() {
    return healthy;
  }

  /** Counts a success; true when it made the node healthy. */
  synchronized boolean success(int threshold) {
    if (threshold == 0) {
      return false;
    }
    httpFailures = 0;
    tcpFailures = 0;
    timeouts = 0;
    if (healthy || ++successes < threshold) {
      return false;
    }
    healthy = true;
    successes = 0;
    return true;
  }

  /** Counts a failure; true when it made the node unhealthy. */
  synchronized boolean failure(Failure kind, int threshold) {
    if (threshold == 0) {
      return false;
    }
    successes = 0;
    if (!healthy) {
      return false;
    }
    int count =
        switch (kind) {
          case HTTP -> ++httpFailures;
          case TCP -> ++tcpFailures;
          case TIMEOUT -> ++timeouts;
        };
    if (count < threshold) {
      return false;
    }
    healthy = false;
    httpFailures = 0;
    tcpFailures = 0;
    timeouts = 0;
    return true;
  }
}
