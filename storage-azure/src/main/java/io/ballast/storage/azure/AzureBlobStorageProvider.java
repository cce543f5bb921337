package io.ballast.storage.azure;

import io.ballast.config.ConfigNode;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageProvider;
import io.ballast.storage.azure.AzureBlobConfig.Credentials;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code fallback_cp.azure_blob} block, as API7 writes it:
 *
 * <pre>
 * azure_blob:
 *   account_name: api7fallback
 *   account_key: base64key==   # or connection_string or sas_token; none: DefaultAzureCredential
 *   config_container: api7-fallback-config
 *   resource_container: api7-fallback-resource
 *   endpoint: https://api7fallback.blob.core.windows.net   # the default for account_name
 *   timeout: 30s                        # Ballast: the longest one request may take
 * </pre>
 */
public final class AzureBlobStorageProvider implements StorageProvider {

  static final String NAME = "azure_blob";
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private static final List<String> CREDENTIAL_KEYS =
      List.of("account_key", "connection_string", "sas_token");
  private static final Set<String> KEYS = keys();

  /** Azure's rule: 3 to 24 lower-case letters and digits. */
  private static final Pattern ACCOUNT_NAME = Pattern.compile("[a-z0-9]{3,24}");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public StorageBackend create(ConfigNode block) {
    return new AzureBlobBackend(parse(block));
  }

  /** Reads and checks the block; no I/O. */
  public static AzureBlobConfig parse(ConfigNode block) {
    block.rejectUnknownKeys(KEYS);
    List<String> given = CREDENTIAL_KEYS.stream().filter(block::has).toList();
    if (given.size() > 1) {
      throw block.error(
          given.get(1), "set only one of " + String.join(", ", given) + "; they are alternatives");
    }
    Credentials credentials = credentials(block, given.isEmpty() ? null : given.get(0));
    boolean connectionString = credentials instanceof Credentials.ConnectionString;

    String accountName = null;
    if (block.has("account_name") || !connectionString) {
      accountName = block.requireString("account_name");
      if (!ACCOUNT_NAME.matcher(accountName).matches()) {
        throw block.error(
            "account_name",
            "must be 3 to 24 lower-case letters and digits, not '" + accountName + "'");
      }
    }
    URI endpoint = endpoint(block, accountName, connectionString);

    Duration timeout = block.duration("timeout", DEFAULT_TIMEOUT);
    if (timeout.isNegative() || timeout.isZero()) {
      throw block.error("timeout", "must be positive, not '" + block.string("timeout", "") + "'");
    }
    return new AzureBlobConfig(accountName, endpoint, credentials, timeout);
  }

  private static Credentials credentials(ConfigNode block, String key) {
    if (key == null) {
      return new Credentials.DefaultChain();
    }
    String value = block.requireString(key);
    return switch (key) {
      // Not checked for base64 here: API7's documented example ("base64key==") must load; a key
      // that cannot sign fails the first request as an invalid configuration.
      case "account_key" -> new Credentials.AccountKey(value.trim());
      case "connection_string" -> {
        if (!value.contains("=")) {
          throw block.error(key, "is not a connection string (Key=Value pairs separated by ';')");
        }
        yield new Credentials.ConnectionString(value);
      }
      case "sas_token" -> new Credentials.SasToken(value.trim());
      default -> throw new IllegalStateException(key);
    };
  }

  private static URI endpoint(ConfigNode block, String accountName, boolean connectionString) {
    if (!block.has("endpoint")) {
      return accountName == null || connectionString
          ? null
          : URI.create("https://" + accountName + ".blob.core.windows.net");
    }
    String text = block.requireString("endpoint");
    try {
      URI uri = new URI(text);
      if (uri.getRawQuery() != null) {
        // A query would be a SAS token: it belongs in sas_token, where it is kept secret.
        throw block.error("endpoint", "must not have a query; put a SAS token in sas_token");
      }
      String scheme = uri.getScheme();
      if (!"http".equals(scheme) && !"https".equals(scheme) || uri.getHost() == null) {
        throw block.error("endpoint", "must be an http or https URL, not '" + text + "'");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw block.error("endpoint", "is not a valid URL (" + e.getReason() + ")");
    }
  }

  private static Set<String> keys() {
    Set<String> keys = new HashSet<>(StorageProvider.COMMON_BLOCK_KEYS);
    keys.addAll(CREDENTIAL_KEYS);
    keys.addAll(List.of("account_name", "endpoint", "timeout"));
    return Set.copyOf(keys);
  }
}
