package io.ballast.gateway.route;

import io.ballast.gateway.http.RouteRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;

/**
 * The uri patterns that are not plain exact paths: prefixes ({@code /a/*}, {@code /assets*}) and
 * patterns with {@code :param} segments ({@code /user/:id/orders}, {@code /user/:id/*}). A trie
 * over the pattern's characters with one extra edge kind: {@code :name} consumes one whole
 * non-empty path segment. Matching walks the request path once (branching only where a literal and
 * a parameter edge both fit), so its cost follows the path's length, not the number of routes.
 */
final class PathTrie {

  private static final RouteTable.Entry[] NONE = new RouteTable.Entry[0];

  private final Node root;
  private final Comparator<RouteTable.Entry> winnerFirst;

  private PathTrie(Node root, Comparator<RouteTable.Entry> winnerFirst) {
    this.root = root;
    this.winnerFirst = winnerFirst;
  }

  /** Builds a trie of prefix and parameter entries; {@code winnerFirst} orders candidates. */
  static PathTrie build(List<RouteTable.Entry> entries, Comparator<RouteTable.Entry> winnerFirst) {
    Builder root = new Builder();
    for (RouteTable.Entry entry : entries) {
      Builder node = root;
      String text = entry.pattern();
      int i = 0;
      while (i < text.length()) {
        int paramEnd = paramEnd(text, i);
        if (paramEnd > 0) {
          if (node.param == null) {
            node.param = new Builder();
          }
          node = node.param;
          i = paramEnd;
        } else {
          node = node.children.computeIfAbsent(text.charAt(i), c -> new Builder());
          i++;
        }
      }
      (entry.kind() == RouteTable.Kind.PREFIX ? node.prefixes : node.ends).add(entry);
    }
    return new PathTrie(root.freeze(winnerFirst), winnerFirst);
  }

  /**
   * Where the {@code :name} segment starting at {@code i} ends, or -1 when none starts there. A
   * parameter fills a whole segment: it follows a '/' and has a name.
   */
  static int paramEnd(String pattern, int i) {
    if (pattern.charAt(i) != ':' || i == 0 || pattern.charAt(i - 1) != '/') {
      return -1;
    }
    int end = pattern.indexOf('/', i);
    end = end < 0 ? pattern.length() : end;
    return end > i + 1 ? end : -1;
  }

  /**
   * The winner among the entries whose pattern matches {@code path} and whose route accepts the
   * request, or {@code best} when none beats it.
   */
  RouteTable.Entry match(RouteRequest request, String host, RouteTable.Entry best) {
    return walk(root, request.path(), 0, request, host, best);
  }

  private RouteTable.Entry walk(
      Node node, String path, int i, RouteRequest request, String host, RouteTable.Entry best) {
    while (true) {
      best = better(node.prefixes, request, host, best);
      if (i == path.length()) {
        return better(node.ends, request, host, best);
      }
      if (node.param != null && i > 0 && path.charAt(i - 1) == '/') {
        int end = path.indexOf('/', i);
        end = end < 0 ? path.length() : end;
        if (end > i) {
          best = walk(node.param, path, end, request, host, best);
        }
      }
      node = node.child(path.charAt(i));
      if (node == null) {
        return best;
      }
      i++;
    }
  }

  /** Entries are in winner order, so the first one accepted is this node's best. */
  private RouteTable.Entry better(
      RouteTable.Entry[] entries, RouteRequest request, String host, RouteTable.Entry best) {
    for (RouteTable.Entry entry : entries) {
      if (best != null && winnerFirst.compare(entry, best) >= 0) {
        return best;
      }
      if (entry.route().accepts(request, host)) {
        return entry;
      }
    }
    return best;
  }

  private static final class Node {
    final char[] keys;
    final Node[] children;
    final Node param;
    final RouteTable.Entry[] ends;
    final RouteTable.Entry[] prefixes;

    Node(
        char[] keys,
        Node[] children,
        Node param,
        RouteTable.Entry[] ends,
        RouteTable.Entry[] prefixes) {
      this.keys = keys;
      this.children = children;
      this.param = param;
      this.ends = ends;
      this.prefixes = prefixes;
    }

    Node child(char c) {
      int at = Arrays.binarySearch(keys, c);
      return at >= 0 ? children[at] : null;
    }
  }

  private static final class Builder {
    final TreeMap<Character, Builder> children = new TreeMap<>();
    Builder param;
    final List<RouteTable.Entry> ends = new ArrayList<>();
    final List<RouteTable.Entry> prefixes = new ArrayList<>();

    Node frozen;

    /**
     * The immutable node for this subtree. Children are frozen before parents from an explicit
     * stack: a 4096-character uri makes a chain of 4096 nodes, too deep to recurse on.
     */
    Node freeze(Comparator<RouteTable.Entry> winnerFirst) {
      List<Builder> preorder = new ArrayList<>();
      ArrayDeque<Builder> pending = new ArrayDeque<>();
      pending.push(this);
      while (!pending.isEmpty()) {
        Builder node = pending.pop();
        preorder.add(node);
        node.children.values().forEach(pending::push);
        if (node.param != null) {
          pending.push(node.param);
        }
      }
      for (int i = preorder.size() - 1; i >= 0; i--) {
        preorder.get(i).freezeOne(winnerFirst);
      }
      return frozen;
    }

    private void freezeOne(Comparator<RouteTable.Entry> winnerFirst) {
      char[] keys = new char[children.size()];
      Node[] nodes = new Node[children.size()];
      int k = 0;
      for (var child : children.entrySet()) {
        keys[k] = child.getKey();
        nodes[k] = child.getValue().frozen;
        k++;
      }
      frozen =
          new Node(
              keys,
              nodes,
              param == null ? null : param.frozen,
              sorted(ends, winnerFirst),
              sorted(prefixes, winnerFirst));
    }

    private static RouteTable.Entry[] sorted(
        List<RouteTable.Entry> entries, Comparator<RouteTable.Entry> winnerFirst) {
      if (entries.isEmpty()) {
        return NONE;
      }
      RouteTable.Entry[] array = entries.toArray(RouteTable.Entry[]::new);
      Arrays.sort(array, winnerFirst);
      return array;
    }
  }
}
