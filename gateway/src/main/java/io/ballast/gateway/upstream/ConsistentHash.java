package io.ballast.gateway.upstream;

import io.ballast.resource.UpstreamNode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * APISIX's {@code chash}: a hash ring with virtual points in proportion to node weights, so that
 * adding or removing one node moves only the keys of that node. A key whose node is not eligible
 * walks on along the ring to the next eligible node, which keeps retries and unhealthy nodes from
 * reshuffling the other keys.
 */
final class ConsistentHash implements Balancer {

  /** Points per unit of (gcd-reduced) weight, as lua-resty-chash. */
  private static final int POINTS_PER_WEIGHT = 160;

  /** Bounds the ring's memory whatever the weights; proportions survive the scaling. */
  private static final long MAX_POINTS = 160_000;

  private final HashKey key;
  private final long[] hashes;
  private final UpstreamNode[] owners;

  ConsistentHash(List<UpstreamNode> candidates, HashKey key) {
    this.key = key;
    List<UpstreamNode> nodes = candidates.stream().filter(n -> n.weight() > 0).toList();
    long gcd = 0;
    long totalWeight = 0;
    for (UpstreamNode node : nodes) {
      gcd = gcd(gcd, node.weight());
      totalWeight += node.weight();
    }
    long perWeight = POINTS_PER_WEIGHT;
    double scale =
        nodes.isEmpty() ? 1 : Math.min(1, MAX_POINTS / (double) (totalWeight / gcd * perWeight));
    record Point(long hash, UpstreamNode owner) {}
    List<Point> points = new java.util.ArrayList<>();
    for (UpstreamNode node : nodes) {
      long count = Math.max(1, Math.round(node.weight() / gcd * perWeight * scale));
      for (long i = 0; i < count; i++) {
        points.add(new Point(hash(node.authority() + "#" + i), node));
      }
    }
    points.sort(
        (a, b) -> {
          int byHash = Long.compare(a.hash(), b.hash());
          // Equal hashes are rare; ordering them by address keeps the ring the same on every DP.
          return byHash != 0 ? byHash : a.owner().authority().compareTo(b.owner().authority());
        });
    this.hashes = points.stream().mapToLong(Point::hash).toArray();
    this.owners = points.stream().map(Point::owner).toArray(UpstreamNode[]::new);
  }

  @Override
  public UpstreamNode pick(BalanceContext ctx, Predicate<UpstreamNode> eligible) {
    return pick(key.valueOf(ctx), eligible);
  }

  /** The node owning {@code value} on the ring, walking on past nodes that are not eligible. */
  UpstreamNode pick(String value, Predicate<UpstreamNode> eligible) {
    if (hashes.length == 0) {
      return null;
    }
    int start = Arrays.binarySearch(hashes, hash(value == null ? "" : value));
    if (start < 0) {
      start = -start - 1;
    }
    for (int step = 0; step < hashes.length; step++) {
      UpstreamNode owner = owners[(start + step) % hashes.length];
      if (eligible.test(owner)) {
        return owner;
      }
    }
    return null;
  }

  private static long gcd(long a, long b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /** 64-bit FNV-1a with a final avalanche (splitmix64), so close keys land far apart. */
  static long hash(String text) {
    long h = 0xcbf29ce484222325L;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 30;
    h *= 0xbf58476d1ce4e5b9L;
    h ^= h >>> 27;
    h *= 0x94d049bb133111ebL;
    return h ^ (h >>> 31);
  }
}
