package io.ballast.gateway.plugin;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The compiled plugins of one route (its own, its plugin config's and its service's, merged), one
 * consumer, or the global rules, in the order they run: higher priority first, then by name.
 */
public final class PluginChain {

  /** What a factory returns for a configuration that holds data but runs nothing. */
  public static final Plugin NOTHING_TO_RUN = new Plugin() {};

  public static final PluginChain EMPTY = new PluginChain(new Entry[0]);

  /** One compiled plugin and where it sorts. */
  public record Entry(String name, int priority, Plugin plugin) {}

  private static final Comparator<Entry> RUN_ORDER =
      Comparator.comparingInt((Entry e) -> -e.priority()).thenComparing(Entry::name);

  private final Entry[] entries;

  private PluginChain(Entry[] entries) {
    this.entries = entries;
  }

  /** A chain of {@code entries}, sorted into run order; entries with nothing to run are dropped. */
  public static PluginChain of(List<Entry> entries) {
    Entry[] runnable =
        entries.stream().filter(e -> e.plugin() != NOTHING_TO_RUN).toArray(Entry[]::new);
    if (runnable.length == 0) {
      return EMPTY;
    }
    Arrays.sort(runnable, RUN_ORDER);
    return new PluginChain(runnable);
  }

  public boolean isEmpty() {
    return entries.length == 0;
  }

  public int size() {
    return entries.length;
  }

  Entry get(int index) {
    return entries[index];
  }

  /** The entries in run order. */
  public List<Entry> entries() {
    return List.of(entries);
  }

  public List<String> names() {
    return Arrays.stream(entries).map(Entry::name).toList();
  }

  /**
   * This route chain with a consumer's plugins: a consumer's plugin replaces the route's plugin of
   * the same name, as in APISIX.
   */
  public PluginChain withConsumer(PluginChain consumer) {
    if (consumer.isEmpty()) {
      return this;
    }
    Set<String> replaced = new HashSet<>(consumer.names());
    List<Entry> merged = new ArrayList<>(List.of(consumer.entries));
    for (Entry entry : entries) {
      if (!replaced.contains(entry.name())) {
        merged.add(entry);
      }
    }
    return of(merged);
  }
}
