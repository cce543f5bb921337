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
import java.util.regex.Pattern;

/**
 * API7's {@code fallback_cp} block: where snapshots are stored and how often. It holds exactly one
 * storage block, named by its backend ({@code aws_s3}, {@code azure_blob}, {@code minio}, {@code
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
 * <p>The bucket keys are read here because every backend has them; the rest of the storage block
 * (credentials, region, endpoint) belongs to the provider named by {@link #backend()}, which reads
 * it from {@link #block()}.
 *
 * @param backend the name of the storage block, which selects the storage provider
 * @param block the storage block itself, secrets included
 * @param configBucket where {@code instance} snapshots go
 * @param resourceBucket where {@code resources} snapshots go
 * @param prefix an object key prefix inside both buckets; empty for none
 * @param cronSpec how often the control plane writes snapshots
 * @param pollInterval how often a data plane checks storage for a newer snapshot
 * @param retention how many snapshot bodies of each kind are kept
 * @param gatewayGroup the gateway group whose snapshots these are
 * @param expireAfter how long an export pointer stays fresh after the CP signs it (it re-signs on
 *     every {@code cron_spec} tick); default the larger of 3 cron periods and 15 minutes
 * @param exportDebounce how long after a change the CP exports it
 */
public record FallbackCpConfig(
    String backend,
    ConfigNode block,
    String configBucket,
    String resourceBucket,
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
  private static final Set<String> SCALAR_KEYS =
      Set.of(
          "cron_spec",
          "poll_interval",
          "retention",
          "gateway_group",
          "expire_after",
          "export_debounce");
  private static final Pattern GATEWAY_GROUP = Pattern.compile("[A-Za-z0-9_-]+");

  public FallbackCpConfig {
    Objects.requireNonNull(backend, "backend");
    Objects.requireNonNull(block, "block");
    Objects.requireNonNull(configBucket, "configBucket");
    Objects.requireNonNull(resourceBucket, "resourceBucket");
    Objects.requireNonNull(prefix, "prefix");
    Objects.requireNonNull(cronSpec, "cronSpec");
    Objects.requireNonNull(pollInterval, "pollInterval");
    Objects.requireNonNull(gatewayGroup, "gatewayGroup");
    Objects.requireNonNull(expireAfter, "expireAfter");
    Objects.requireNonNull(exportDebounce, "exportDebounce");
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("pollInterval must be positive: " + pollInterval);
    }
    if (retention < 1) {
      throw new IllegalArgumentException("retention must be at least 1: " + retention);
    }
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
    List<String> backends = new ArrayList<>();
    for (String key : node.keys()) {
      if (SCALAR_KEYS.contains(key)) {
        continue;
      }
      Optional<Object> value = node.raw(key);
      if (value.isEmpty()) {
        throw node.error(
            key, "is empty; a storage block needs config_bucket and resource_bucket at least");
      }
      if (value.get() instanceof Map<?, ?>) {
        backends.add(key);
      } else {
        String suggestion = Suggestions.didYouMean(key, SCALAR_KEYS);
        throw node.error(
            key,
            suggestion.isEmpty()
                ? "unknown key; beside the storage block only "
                    + String.join(", ", SCALAR_KEYS.stream().sorted().toList())
                    + " are allowed"
                : "unknown key" + suggestion);
      }
    }
    if (backends.isEmpty()) {
      throw node.error(
          null,
          "needs a storage block such as aws_s3, azure_blob, minio or filesystem, with"
              + " config_bucket and resource_bucket");
    }
    if (backends.size() > 1) {
      throw node.error(
          null,
          "has "
              + backends.size()
              + " storage blocks, "
              + String.join(" and ", backends)
              + "; keep exactly one");
    }
    String backend = backends.get(0);
    ConfigNode block = node.child(backend).orElseThrow();
    boolean azure = backend.equals("azure_blob");

    CronSpec cron = cronSpec(node);
    return new FallbackCpConfig(
        backend,
        block,
        bucket(block, "config_bucket", "config_container", azure),
        bucket(block, "resource_bucket", "resource_container", azure),
        prefix(block),
        cron,
        positive(node, "poll_interval", node.duration("poll_interval", DEFAULT_POLL_INTERVAL)),
        retention(node),
        gatewayGroup(node),
        expireAfter(node, cron),
        positive(
            node, "export_debounce", node.duration("export_debounce", DEFAULT_EXPORT_DEBOUNCE)));
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

  /** Names the backend and buckets only: the storage block carries credentials. */
  @Override
  public String toString() {
    return "FallbackCpConfig[backend="
        + backend
        + ", configBucket="
        + configBucket
        + ", resourceBucket="
        + resourceBucket
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
