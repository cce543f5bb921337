package io.ballast.storage.azure;

import com.azure.core.http.HttpClient;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.identity.DefaultAzureCredentialBuilder;
import com.azure.storage.blob.BlobServiceAsyncClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.common.StorageSharedKeyCredential;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.azure.AzureBlobConfig.Credentials;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;
import reactor.netty.resources.ConnectionProvider;

/**
 * One Azure storage account: one {@link BlobServiceAsyncClient} on its own connection pool, from
 * which containers are opened. Building it does no I/O.
 */
public final class AzureBlobBackend implements StorageBackend {

  /** SDK attempts per request: enough to ride out a dropped connection, few enough to fail fast. */
  static final int MAX_TRIES = 3;

  /** Azure's rule: 3 to 63 lower-case letters, digits and single hyphens, no hyphen at the ends. */
  private static final Pattern CONTAINER_NAME =
      Pattern.compile("(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*");

  private final ConnectionProvider connections;
  private final BlobServiceAsyncClient client;

  public AzureBlobBackend(AzureBlobConfig config) {
    Objects.requireNonNull(config, "config");
    this.connections =
        ConnectionProvider.builder("ballast-azure-blob")
            .maxConnections(64)
            .pendingAcquireTimeout(config.timeout())
            .maxIdleTime(Duration.ofSeconds(30))
            .build();
    this.client = buildClient(config, connections);
  }

  private static BlobServiceAsyncClient buildClient(
      AzureBlobConfig config, ConnectionProvider connections) {
    Duration timeout = config.timeout();
    HttpClient http =
        new NettyAsyncHttpClientBuilder()
            .connectionProvider(connections)
            .connectTimeout(timeout)
            .responseTimeout(timeout)
            .readTimeout(timeout)
            .writeTimeout(timeout)
            .build();
    // The SDK defaults (4 tries, 60 s each, back-off up to 120 s) take about 45 s to give up on an
    // unreachable server; a node must learn within seconds that storage is gone.
    RequestRetryOptions retries =
        new RequestRetryOptions(
            RetryPolicyType.EXPONENTIAL,
            MAX_TRIES,
            timeout,
            Duration.ofMillis(200),
            Duration.ofSeconds(2),
            null);
    BlobServiceClientBuilder builder =
        new BlobServiceClientBuilder().httpClient(http).retryOptions(retries);
    Credentials credentials = config.credentials();
    if (credentials instanceof Credentials.ConnectionString c) {
      builder.connectionString(c.value());
    } else if (credentials instanceof Credentials.AccountKey k) {
      builder.credential(new StorageSharedKeyCredential(config.accountName(), k.key()));
    } else if (credentials instanceof Credentials.SasToken s) {
      builder.sasToken(s.token());
    } else {
      builder.credential(new DefaultAzureCredentialBuilder().build());
    }
    if (config.endpoint() != null) {
      builder.endpoint(config.endpoint().toString());
    }
    return builder.buildAsyncClient();
  }

  @Override
  public String name() {
    return AzureBlobStorageProvider.NAME;
  }

  @Override
  public ObjectStorage bucket(String container) {
    Objects.requireNonNull(container, "container");
    if (!CONTAINER_NAME.matcher(container).matches()) {
      throw new InvalidStorageConfigException(
          "azure_blob container '"
              + container
              + "' is not a valid container name (3 to 63 lower-case letters, digits and single"
              + " hyphens, starting and ending with a letter or digit)");
    }
    return new AzureBlobObjectStorage(client.getBlobContainerAsyncClient(container));
  }

  @Override
  public void close() {
    connections.dispose();
  }

  /** Names the account and endpoint only, never the credentials. */
  @Override
  public String toString() {
    return "azure_blob:" + client.getAccountUrl();
  }
}
