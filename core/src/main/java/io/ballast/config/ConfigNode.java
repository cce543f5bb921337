package io.ballast.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * One mapping of a parsed YAML file together with where it came from, so that every typed read can
 * fail with the file and the full key path. Values are already env-substituted by {@link
 * ConfigLoader}.
 */
public final class ConfigNode {

  /** Past this many, a list of the keys allowed would bury the error. */
  private static final int MAX_KEYS_LISTED = 12;

  private final String file;
  private final String path;
  private final Map<String, Object> values;

  private ConfigNode(String file, String path, Map<String, Object> values) {
    this.file = file;
    this.path = path;
    this.values = values;
  }

  /** The root mapping of {@code file}. */
  public static ConfigNode root(String file, Map<String, Object> values) {
    return new ConfigNode(file, "", new LinkedHashMap<>(values));
  }

  public String file() {
    return file;
  }

  /** The dotted key path of this mapping; empty at the root. */
  public String path() {
    return path;
  }

  public String pathOf(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  public Set<String> keys() {
    return values.keySet();
  }

  public boolean has(String key) {
    return values.containsKey(key) && values.get(key) != null;
  }

  public boolean isEmpty() {
    return values.isEmpty();
  }

  public ConfigException error(String key, String problem) {
    return new ConfigException(file, key == null ? path : pathOf(key), problem);
  }

  /** The mapping under {@code key}, if present; an error if the value is not a mapping. */
  public Optional<ConfigNode> child(String key) {
    Object value = values.get(key);
    if (value == null) {
      return Optional.empty();
    }
    if (!(value instanceof Map<?, ?> map)) {
      throw error(key, "must be a mapping, not " + describe(value));
    }
    Map<String, Object> copy = new LinkedHashMap<>();
    map.forEach((k, v) -> copy.put(String.valueOf(k), v));
    return Optional.of(new ConfigNode(file, pathOf(key), copy));
  }

  /** The mapping under {@code key}, or an empty mapping at that path. */
  public ConfigNode childOrEmpty(String key) {
    return child(key).orElseGet(() -> new ConfigNode(file, pathOf(key), new LinkedHashMap<>()));
  }

  public Optional<Object> raw(String key) {
    return Optional.ofNullable(values.get(key));
  }

  /** A scalar as text; numbers and booleans are accepted and written as YAML wrote them. */
  public Optional<String> string(String key) {
    Object value = values.get(key);
    if (value == null) {
      return Optional.empty();
    }
    if (value instanceof Map<?, ?> || value instanceof List<?>) {
      throw error(key, "must be a single value, not " + describe(value));
    }
    return Optional.of(String.valueOf(value));
  }

  public String string(String key, String defaultValue) {
    return string(key).orElse(defaultValue);
  }

  public String requireString(String key) {
    String value = string(key).orElseThrow(() -> error(key, "is required"));
    if (value.isBlank()) {
      throw error(key, "must not be empty");
    }
    return value;
  }

  public int integer(String key, int defaultValue) {
    Optional<String> value = string(key);
    if (value.isEmpty()) {
      return defaultValue;
    }
    try {
      return Integer.parseInt(value.get().trim());
    } catch (NumberFormatException e) {
      throw error(key, "must be an integer, not '" + value.get() + "'");
    }
  }

  public boolean bool(String key, boolean defaultValue) {
    Object value = values.get(key);
    if (value == null) {
      return defaultValue;
    }
    if (value instanceof Boolean b) {
      return b;
    }
    String text = String.valueOf(value).trim();
    if (text.equals("true") || text.equals("false")) {
      return Boolean.parseBoolean(text);
    }
    throw error(key, "must be true or false, not '" + text + "'");
  }

  /**
   * A Go-style duration ({@code 500ms}, {@code 30s}, {@code 1h30m}); a bare integer means seconds.
   */
  public Duration duration(String key, Duration defaultValue) {
    Optional<String> value = string(key);
    if (value.isEmpty()) {
      return defaultValue;
    }
    String text = value.get().trim();
    try {
      if (text.chars().allMatch(Character::isDigit)) {
        return Duration.ofSeconds(Long.parseLong(text));
      }
      return GoDuration.parse(text);
    } catch (IllegalArgumentException e) {
      throw error(key, e.getMessage());
    }
  }

  /**
   * The mappings of the sequence under {@code key}, each at its indexed path ({@code
   * fallback_cp.backends[1]}), so that errors inside an entry name it; empty when the key is
   * absent.
   *
   * @throws ConfigException if the value is not a sequence or an entry is not a mapping
   */
  public List<ConfigNode> entries(String key) {
    Object value = values.get(key);
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof List<?> list)) {
      throw error(key, "must be a list, not " + describe(value));
    }
    List<ConfigNode> entries = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String entryPath = pathOf(key) + "[" + i + "]";
      if (!(list.get(i) instanceof Map<?, ?> map)) {
        throw new ConfigException(
            file, entryPath, "must be a mapping, not " + describe(list.get(i)));
      }
      Map<String, Object> copy = new LinkedHashMap<>();
      map.forEach((k, v) -> copy.put(String.valueOf(k), v));
      entries.add(new ConfigNode(file, entryPath, copy));
    }
    return entries;
  }

  /** A sequence; a single scalar is read as a list of one, as APISIX does for hosts. */
  public List<Object> list(String key) {
    Object value = values.get(key);
    if (value == null) {
      return List.of();
    }
    if (value instanceof List<?> list) {
      return new ArrayList<>(list);
    }
    if (value instanceof Map<?, ?>) {
      throw error(key, "must be a list or a single value, not a mapping");
    }
    return List.of(value);
  }

  /**
   * Refuses any key of this mapping not in {@code allowed}: with "did you mean" when a known key is
   * close to it (a typo, {@code -} for {@code _}), otherwise with the keys allowed, when there are
   * few enough of them to read in one line.
   */
  public void rejectUnknownKeys(Set<String> allowed) {
    for (String key : values.keySet()) {
      if (!allowed.contains(key)) {
        throw error(key, unknownKeyProblem(key, allowed));
      }
    }
  }

  /**
   * Refuses any key of {@code entry}, a mapping inside a list under this one (such as {@code
   * node_listen[0]}, given as {@code entryPath}), not in {@code allowed}, as {@link
   * #rejectUnknownKeys(Set)} does for a block.
   */
  public void rejectUnknownKeys(String entryPath, Map<?, ?> entry, Set<String> allowed) {
    for (Object key : entry.keySet()) {
      String name = String.valueOf(key);
      if (!allowed.contains(name)) {
        throw error(entryPath + "." + name, unknownKeyProblem(name, allowed));
      }
    }
  }

  /** The problem to report for {@code key}, unknown among {@code allowed}. */
  private static String unknownKeyProblem(String key, Set<String> allowed) {
    String suggestion = Suggestions.didYouMean(key, allowed);
    if (!suggestion.isEmpty()) {
      return "unknown key" + suggestion;
    }
    if (allowed.size() > MAX_KEYS_LISTED) {
      return "unknown key; neither Ballast nor APISIX has it here";
    }
    return "unknown key; allowed here: " + String.join(", ", new TreeSet<>(allowed));
  }

  private static String describe(Object value) {
    if (value instanceof Map<?, ?>) {
      return "a mapping";
    }
    if (value instanceof List<?>) {
      return "a list";
    }
    return "'" + value + "'";
  }
}
