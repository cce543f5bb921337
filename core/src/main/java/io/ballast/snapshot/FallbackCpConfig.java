package io.ballast.snapshot;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigNode;
import io.ballast.config.CronSpec;
import io.ballast.config.Suggestions;
import io.ballast.storage.ObjectKey;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * API7's {@code fallback_cp} block: where snapshots are stored and how often. It holds one storage
 * block, named by its backend ({@code aws_s3}, {@code azure_blob}, {@code minio}, {@code
 * filesystem}, or any name a provider answers to), and beside it {@code cron_spec} plus Ballast's
 * extensions {@code poll_interval}, {@code retention} and {@code gateway_group}.
 *
 * <pre>{@code
 * fallback_cp:
 *   aws_s3:
 *     access_key: ...
 *     secret_key: ...
 *     region: ap-south-1
 *     config_bucket: api7-fallback-config
 *     resource_bucket: api7-fallback-resource
 *   cron_spec: '@every 1m'
 * }</pre>
 *
 * <p>Ballast's redundant storage puts an ordered list of such blocks under {@code backends}
 * instead; a control plane exports to every one, a data plane reads the newest valid export among
 * those that answer:
 *
 * <pre>{@code
 * fallback_cp:
 *   backends:
 *     - aws_s3: {access_key: ..., secret_key: ..., region: ..., config_bucket: ..., resource_bucket: ...}
 *     - azure_blob: {account_name: ..., account_key: ..., config_container: ..., resource_container: ...}
 *   cron_spec: '@every 1m'
 * }</pre>
 *
 * <p>The bucket keys are read here because every backend has them; the rest of each storage block
 * (credentials, region, endpoint) belongs to the provider its name selects, which reads it from
 * {@link StorageBlock#block()}.
 *
 * @param storages the storage blocks, in the order written; one for API7's form
 * @param prefix an object key prefix inside every bucket; empty for none. The same in every block:
 *     one signed export names its bodies by one key
 * @param cronSpec how often the control plane writes snapshots
 * @param pollInterval how often a data plane checks storage for a newer snapshot
 * @param retention how many snapshot bodies of each kind are kept
 * @param gatewayGroup the gateway group whose snapshots these are
 * @param expireAfter how long an export pointer stays fresh after the CP signs it (it re-signs on
 *     every {@code cron_spec} tick); default the larger of 3 cron periods and 15 minutes
 * @param exportDebounce how long after a change the CP exports it
 */
public record FallbackCpConfig(
    List<StorageBlock> storages,
    String prefix,
    CronSpec cronSpec,
    Duration pollInterval,
    int retention,
    String gatewayGroup,
    Duration expireAfter,
    Duration exportDebounce) {

  public static final String DEFAULT_CRON_SPEC = "@every 1m";
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(10);
  public static final int DEFAULT_RETENTION = 10;
  public static final String DEFAULT_GATEWAY_GROUP = "default";
  public static final Duration MIN_DEFAULT_EXPIRE_AFTER = Duration.ofMinutes(15);
  public static final Duration DEFAULT_EXPORT_DEBOUNCE = Duration.ofSeconds(1);

  private static final String KEY = "fallback_cp";

  /** Ballast's list of storage blocks (redundant storage). */
  private static final String BACKENDS = "backends";

  private static final Set<String> SCALAR_KEYS =
      Set.of(
          "cron_spec",
          "poll_interval",
          "retention",
          "gateway_group",
          "expire_after",
          "export_debounce",
          // Read by the service's ShrinkGuardConfig: the guard runs with or without storage.
          "max_route_shrink");
  private static final Pattern GATEWAY_GROUP = Pattern.compile("[A-Za-z0-9_-]+");

  public FallbackCpConfig {
    storages = List.copyOf(storages);
    Objects.requireNonNull(prefix, "prefix");
    Objects.requireNonNull(cronSpec, "cronSpec");
    Objects.requireNonNull(pollInterval, "pollInterval");
    Objects.requireNonNull(gatewayGroup, "gatewayGroup");
    if (storages.isEmpty()) {
      throw new IllegalArgumentException("at least one storage block is needed");
    }
    Objects.requireNonNull(expireAfter, "expireAfter");
    Objects.requireNonNull(exportDebounce, "exportDebounce");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval must be positive: " + pollInterval);
    }
    if (retention < 1) {
      throw new IllegalArgumentException("retention must be at least 1: " + retention);
    }
  }

  /** The first storage block: API7's only one, or the first under {@code backends}. */
  public StorageBlock primary() {
    return storages.get(0);
  }

  /** The first storage block's name; see {@link #storages()} for all of them. */
  public String backend() {
    return primary().backend();
  }

  /** The first storage block, secrets included; see {@link #storages()} for all of them. */
  public ConfigNode block() {
    return primary().block();
  }

  /** The first storage block's {@code config_bucket}; see {@link #storages()}. */
  public String configBucket() {
    return primary().configBucket();
  }

  /** The first storage block's {@code resource_bucket}; see {@link #storages()}. */
  public String resourceBucket() {
    return primary().resourceBucket();
  }

  /** Whether several storage blocks are listed under {@code backends}. */
  public boolean redundant() {
    return storages.size() > 1;
  }

  /**
   * The {@code fallback_cp} block of a node's file, at the top level (API7's dashboard file) or
   * under {@code deployment} (API7's gateway file); empty when there is none.
   *
   * @throws ConfigException if the block is in both places or cannot work
   */
  public static Optional<FallbackCpConfig> find(ConfigNode root) {
    Optional<ConfigNode> top = root.child(KEY);
    Optional<ConfigNode> underDeployment =
        root.child("deployment").flatMap(deployment -> deployment.child(KEY));
    if (top.isPresent() && underDeployment.isPresent()) {
      throw root.error(
          KEY,
          "is set both at the top level and as "
              + underDeployment.get().path()
              + "; keep one of them");
    }
    return top.or(() -> underDeployment).map(FallbackCpConfig::parse);
  }

  /** Reads a {@code fallback_cp} mapping. */
  public static FallbackCpConfig parse(ConfigNode node) {
    List<String> blocks = new ArrayList<>();
    for (String key : node.keys()) {
      if (SCALAR_KEYS.contains(key) || key.equals(BACKENDS)) {
        continue;
      }
      Optional<Object> value = node.raw(key);
      if (value.isEmpty()) {
        throw node.error(
            key, "is empty; a storage block needs config_bucket and resource_bucket at least");
      }
      if (value.get() instanceof Map<?, ?>) {
        blocks.add(key);
      } else {
        Set<String> allowed = new TreeSet<>(SCALAR_KEYS);
        allowed.add(BACKENDS);
        String suggestion = Suggestions.didYouMean(key, allowed);
        throw node.error(
            key,
            suggestion.isEmpty()
                ? "unknown key; beside the storage block only "
                    + String.join(", ", allowed)
                    + " are allowed"
                : "unknown key" + suggestion);
      }
    }
    List<StorageBlock> storages =
        node.keys().contains(BACKENDS) ? listed(node, blocks) : List.of(single(node, blocks));

    CronSpec cron = cronSpec(node);
    return new FallbackCpConfig(
        storages,
        commonPrefix(storages),
        cron,
        positive(node, "poll_interval", node.duration("poll_interval", DEFAULT_POLL_INTERVAL)),
        retention(node),
        gatewayGroup(node),
        expireAfter(node, cron),
        positive(
            node, "export_debounce", node.duration("export_debounce", DEFAULT_EXPORT_DEBOUNCE)));
  }

  /** API7's form: exactly one storage block beside the scalar keys. */
  private static StorageBlock single(ConfigNode node, List<String> blocks) {
    if (blocks.isEmpty()) {
      throw node.error(
          null,
          "needs a storage block such as aws_s3, azure_blob, minio or filesystem, with"
              + " config_bucket and resource_bucket");
    }
    if (blocks.size() > 1) {
      throw node.error(
          null,
          "has "
              + blocks.size()
              + " storage blocks, "
              + String.join(" and ", blocks)
              + "; keep exactly one, or list them under "
              + BACKENDS
              + " (redundant storage)");
    }
    return storageBlock(node.child(blocks.get(0)).orElseThrow());
  }

  /** Ballast's form: {@code backends}, a list of one-key mappings, each a storage block. */
  private static List<StorageBlock> listed(ConfigNode node, List<String> blocks) {
    if (!blocks.isEmpty()) {
      throw node.error(
          blocks.get(0),
          "a storage block beside " + BACKENDS + "; list it under " + BACKENDS + " instead");
    }
    List<ConfigNode> entries = node.entries(BACKENDS);
    if (entries.isEmpty()) {
      throw node.error(
          BACKENDS, "is empty; list one storage block or more, such as '- aws_s3: {...}'");
    }
    List<StorageBlock> storages = new ArrayList<>();
    for (ConfigNode entry : entries) {
      if (entry.keys().size() != 1) {
        throw entry.error(
            null,
            "has "
                + (entry.keys().isEmpty() ? "no key" : String.join(", ", entry.keys()))
                + "; each entry is one storage block, such as '- aws_s3: {...}'");
      }
      String name = entry.keys().iterator().next();
      if (entry.raw(name).isEmpty()) {
        throw entry.error(
            name, "is empty; a storage block needs config_bucket and resource_bucket at least");
      }
      storages.add(storageBlock(entry.child(name).orElseThrow()));
    }
    return storages;
  }

  private static StorageBlock storageBlock(ConfigNode block) {
    String backend = block.path().substring(block.path().lastIndexOf('.') + 1);
    boolean azure = backend.equals("azure_blob");
    return new StorageBlock(
        backend,
        block,
        bucket(block, "config_bucket", "config_container", azure),
        bucket(block, "resource_bucket", "resource_container", azure));
  }

  /**
   * The one prefix of every block. A CP writes the same signed export to each backend, and its
   * manifest names the bodies' keys, prefix included: they cannot differ between backends.
   */
  private static String commonPrefix(List<StorageBlock> storages) {
    String first = prefix(storages.get(0).block());
    for (StorageBlock storage : storages.subList(1, storages.size())) {
      String prefix = prefix(storage.block());
      if (!prefix.equals(first)) {
        throw storage
            .block()
            .error(
                "prefix",
                "is '"
                    + prefix
                    + "' but "
                    + storages.get(0).path()
                    + " has '"
                    + first
                    + "'; every backend holds the same signed export, whose manifest names its"
                    + " bodies' keys, so the prefix must be the same in each");
      }
    }
    return first;
  }

  /** A bucket under its S3 name or its Azure name, exactly one of them. */
  private static String bucket(
      ConfigNode block, String bucketKey, String containerKey, boolean azure) {
    boolean hasBucket = block.has(bucketKey);
    boolean hasContainer = block.has(containerKey);
    if (hasBucket && hasContainer) {
      throw block.error(
          containerKey, "set either " + bucketKey + " or " + containerKey + ", not both");
    }
    if (hasBucket || hasContainer) {
      return block.requireString(hasBucket ? bucketKey : containerKey);
    }
    // Name the key this backend's users write.
    throw block.error(azure ? containerKey : bucketKey, "is required");
  }

  private static String prefix(ConfigNode block) {
    String prefix = block.string("prefix", "");
    if (prefix.isEmpty()) {
      return prefix;
    }
    try {
      return ObjectKey.of(prefix).value();
    } catch (IllegalArgumentException e) {
      throw block.error("prefix", e.getMessage());
    }
  }

  private static CronSpec cronSpec(ConfigNode node) {
    String spec = node.string("cron_spec", DEFAULT_CRON_SPEC);
    try {
      return CronSpec.parse(spec);
    } catch (IllegalArgumentException e) {
      throw node.error("cron_spec", e.getMessage());
    }
  }

  private static Duration positive(ConfigNode node, String key, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw node.error(key, "must be longer than zero");
    }
    return value;
  }

  /**
   * At least one re-signing must land before the pointer expires, with room for a failed tick or
   * two: the default is 3 cron periods, and never under 15 minutes.
   */
  private static Duration expireAfter(ConfigNode node, CronSpec cron) {
    Instant now = Instant.now();
    Instant first = cron.next(now, ZoneOffset.UTC);
    Duration period = Duration.between(first, cron.next(first, ZoneOffset.UTC));
    Duration threeTicks = period.multipliedBy(3);
    Duration fallback =
        threeTicks.compareTo(MIN_DEFAULT_EXPIRE_AFTER) > 0 ? threeTicks : MIN_DEFAULT_EXPIRE_AFTER;
    Duration given = positive(node, "expire_after", node.duration("expire_after", fallback));
    if (node.has("expire_after") && given.compareTo(period) <= 0) {
      throw node.error(
          "expire_after",
          "must be longer than one cron_spec period ("
              + period.toSeconds()
              + "s): the pointer is re-signed once a period");
    }
    return given;
  }

  private static int retention(ConfigNode node) {
    int retention = node.integer("retention", DEFAULT_RETENTION);
    if (retention < 1) {
      throw node.error("retention", "must be at least 1, not " + retention);
    }
    return retention;
  }

  private static String gatewayGroup(ConfigNode node) {
    String group = node.string("gateway_group", DEFAULT_GATEWAY_GROUP);
    if (!GATEWAY_GROUP.matcher(group).matches()) {
      throw node.error(
          "gateway_group",
          "'" + group + "' may use only letters, digits, '_' and '-', and must not be empty");
    }
    return group;
  }

  /** Names the backends and buckets only: the storage blocks carry credentials. */
  @Override
  public String toString() {
    return "FallbackCpConfig[storages="
        + storages
        + ", prefix="
        + prefix
        + ", cronSpec="
        + cronSpec
        + ", pollInterval="
        + pollInterval
        + ", retention="
        + retention
        + ", gatewayGroup="
        + gatewayGroup
        + ", expireAfter="
        + expireAfter
        + ", exportDebounce="
        + exportDebounce
        + "]";
  }
}
