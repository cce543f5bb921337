package io.ballast.gateway.upstream;

import io.ballast.resource.UpstreamNode;
import java.util.function.Predicate;

/**
 * Chooses the node for one attempt of a request among the nodes of one priority level. One instance
 * serves every request to its upstream, so implementations are thread-safe.
 *
 * <p>Every node a pick returns is handed back to {@link #release} exactly once, when the attempt
 * ends however it ends, so a balancer may count requests in flight.
 */
public interface Balancer {

  /**
   * A node that {@code eligible} accepts, or {@code null} when it accepts none. The caller folds
   * into {@code eligible} the nodes this request already tried and those health checks reject.
   */
  UpstreamNode pick(BalanceContext ctx, Predicate<UpstreamNode> eligible);

  /** The attempt on {@code node}, returned by {@link #pick}, has ended. */
  default void release(UpstreamNode node) {}
}
