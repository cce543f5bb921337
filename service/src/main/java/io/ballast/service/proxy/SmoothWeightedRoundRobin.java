package io.ballast.service.proxy;

import java.util.List;

/**
 * nginx's smooth weighted round robin: every pick adds each node's weight to its current value,
 * takes the node with the highest current value and subtracts the total weight from it. Weights
 * 5/1/1 give a, a, b, a, c, a, a: heavy nodes are spread out instead of picked in bursts.
 *
 * <p>Shared by every request to one upstream, so picks are serialized; the critical section is a
 * loop over the nodes, far cheaper than the request it serves.
 */
final class SmoothWeightedRoundRobin {

  private final UpstreamNode[] nodes;
  // long: a sum of int weights cannot overflow it, whatever the validator let through.
  private final long[] current;
  private final long totalWeight;

  /** Nodes of weight 0 are dropped: nginx never picks them. */
  SmoothWeightedRoundRobin(List<UpstreamNode> candidates) {
    this.nodes = candidates.stream().filter(n -> n.weight() > 0).toArray(UpstreamNode[]::new);
    this.current = new long[nodes.length];
    long total = 0;
    for (UpstreamNode node : nodes) {
      total += node.weight();
    }
    this.totalWeight = total;
  }

  /** The next node, or {@code null} when no node has a positive weight. */
  synchronized UpstreamNode next() {
    if (nodes.length == 0) {
      return null;
    }
    int best = 0;
    for (int i = 0; i < nodes.length; i++) {
      current[i] += nodes[i].weight();
      if (current[i] > current[best]) {
        best = i;
      }
    }
    current[best] -= totalWeight;
    return nodes[best];
  }
}
