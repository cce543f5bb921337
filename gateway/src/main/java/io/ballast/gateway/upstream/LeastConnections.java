package io.ballast.gateway.upstream;

import io.ballast.resource.UpstreamNode;
import java.util.List;
import java.util.function.Predicate;

/**
 * APISIX's {@code least_conn}: the node with the lowest {@code (active + 1) / weight}, where active
 * counts the attempts in flight through this balancer. Ties go to the node listed first.
 */
public final class LeastConnections implements Balancer {

  private final UpstreamNode[] nodes;
  private final int[] active;

  /** Nodes of weight 0 are dropped, as by round robin. */
  LeastConnections(List<UpstreamNode> candidates) {
    this.nodes = candidates.stream().filter(n -> n.weight() > 0).toArray(UpstreamNode[]::new);
    this.active = new int[nodes.length];
  }

  // Picking and counting under one lock: a burst of requests spreads instead of all seeing the
  // same idle node.
  @Override
  public synchronized UpstreamNode pick(BalanceContext ctx, Predicate<UpstreamNode> eligible) {
    int best = -1;
    for (int i = 0; i < nodes.length; i++) {
      if (eligible.test(nodes[i]) && (best < 0 || lighter(i, best))) {
        best = i;
      }
    }
    if (best < 0) {
      return null;
    }
    active[best]++;
    return nodes[best];
  }

  /** (active[a] + 1) / weight[a] < (active[b] + 1) / weight[b], without division. */
  private boolean lighter(int a, int b) {
    return (active[a] + 1L) * nodes[b].weight() < (active[b] + 1L) * nodes[a].weight();
  }

  @Override
  public synchronized void release(UpstreamNode node) {
    int i = indexOf(node);
    if (i >= 0 && active[i] > 0) {
      active[i]--;
    }
  }

  /** Attempts in flight through {@code node}; 0 for a node this balancer does not hold. */
  public synchronized int active(UpstreamNode node) {
    int i = indexOf(node);
    return i < 0 ? 0 : active[i];
  }

  private int indexOf(UpstreamNode node) {
    for (int i = 0; i < nodes.length; i++) {
      if (nodes[i].equals(node)) {
        return i;
      }
    }
    return -1;
  }
}
