package io.ballast.gateway.upstream;

import io.ballast.resource.UpstreamNode;
import java.util.List;
import java.util.function.Predicate;

/**
 * nginx's smooth weighted round robin: every pick adds each node's weight to its current value,
 * takes the node with the highest current value and subtracts the total weight from it. Weights
 * 5/1/1 give a, a, b, a, c, a, a: heavy nodes are spread out instead of picked in bursts. Like
 * nginx, a pick only counts the eligible nodes, so a retry that skips tried nodes does not skew the
 * rotation of the others.
 *
 * <p>Shared by every request to one upstream, so picks are serialized; the critical section is a
 * loop over the nodes, far cheaper than the request it serves.
 */
final class SmoothWeightedRoundRobin implements Balancer {

  private final UpstreamNode[] nodes;
  // long: a sum of int weights cannot overflow it, however many nodes an upstream names.
  private final long[] current;

  /** Nodes of weight 0 are dropped: nginx never picks them. */
  SmoothWeightedRoundRobin(List<UpstreamNode> candidates) {
    this.nodes = candidates.stream().filter(n -> n.weight() > 0).toArray(UpstreamNode[]::new);
    this.current = new long[nodes.length];
  }

  /** The next node, or {@code null} when no node has a positive weight. */
  UpstreamNode next() {
    return pick(BalanceContext.none(), node -> true);
  }

  @Override
  public synchronized UpstreamNode pick(BalanceContext ctx, Predicate<UpstreamNode> eligible) {
    int best = -1;
    long total = 0;
    for (int i = 0; i < nodes.length; i++) {
      if (!eligible.test(nodes[i])) {
        continue;
      }
      current[i] += nodes[i].weight();
      total += nodes[i].weight();
      if (best < 0 || current[i] > current[best]) {
        best = i;
      }
    }
    if (best < 0) {
      return null;
    }
    current[best] -= total;
    return nodes[best];
  }
}
