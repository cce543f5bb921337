package io.ballast.storage.azure;

import com.azure.storage.blob.BlobServiceClientBuilder;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageBackends;
import io.ballast.testkit.AzuriteServer;
import java.util.Map;

/** Builds backends the way a node does: from a YAML {@code fallback_cp} block. */
final class AzureTestSupport {

  static final String FILE = "config.yaml";

  private AzureTestSupport() {}

  /** The {@code fallback_cp} block of {@code yaml}, parsed by core. */
  static FallbackCpConfig fallbackCp(String yaml) {
    ConfigNode root = ConfigLoader.parse(yaml, FILE, Map.<String, String>of()::get);
    return FallbackCpConfig.find(root).orElseThrow();
  }

  /** A backend on {@code endpoint} (an Azurite account URL) with the given key and timeout. */
  static StorageBackend backend(String endpoint, String accountKey, String timeout) {
    FallbackCpConfig config =
        fallbackCp(
            "fallback_cp:\n"
                + "  azure_blob:\n"
                + "    account_name: "
                + AzuriteServer.ACCOUNT_NAME
                + "\n"
                + "    account_key: "
                + accountKey
                + "\n"
                + "    config_container: config\n"
                + "    resource_container: resources\n"
                + "    endpoint: "
                + endpoint
                + "\n"
                + "    timeout: "
                + timeout
                + "\n");
    return StorageBackends.open(config.backend(), config.block());
  }

  static StorageBackend backend(AzuriteServer server) {
    return backend(server.blobEndpoint(), AzuriteServer.ACCOUNT_KEY, "30s");
  }

  static void createContainer(AzuriteServer server, String name) {
    new BlobServiceClientBuilder()
        .connectionString(server.connectionString())
        .buildClient()
        .createBlobContainer(name);
  }
}
