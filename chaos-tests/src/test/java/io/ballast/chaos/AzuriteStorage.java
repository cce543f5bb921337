package io.ballast.chaos;

import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobItem;
import com.azure.storage.blob.models.BlobStorageException;
import io.ballast.testkit.AzuriteServer;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** Azure Blob through Azurite, configured with the {@code azure_blob} block as API7 writes it. */
final class AzuriteStorage implements ClusterStorage {

  private final AzuriteServer server;
  private final BlobServiceClient client;

  private AzuriteStorage(AzuriteServer server) {
    this.server = server;
    this.client =
        new BlobServiceClientBuilder().connectionString(server.connectionString()).buildClient();
  }

  static AzuriteStorage start(Path dir) {
    AzuriteStorage storage = new AzuriteStorage(AzuriteServer.start(dir));
    storage.client.createBlobContainer(Configs.CONFIG_BUCKET);
    storage.client.createBlobContainer(Configs.RESOURCE_BUCKET);
    return storage;
  }

  @Override
  public String block() {
    return """
        azure_blob:
          account_name: %s
          account_key: %s
          config_container: %s
          resource_container: %s
          endpoint: %s
        """
        .formatted(
            AzuriteServer.ACCOUNT_NAME,
            AzuriteServer.ACCOUNT_KEY,
            Configs.CONFIG_BUCKET,
            Configs.RESOURCE_BUCKET,
            server.blobEndpoint());
  }

  @Override
  public List<String> secrets() {
    return List.of(AzuriteServer.ACCOUNT_KEY);
  }

  @Override
  public byte[] read(String bucket, String key) {
    try {
      return client.getBlobContainerClient(bucket).getBlobClient(key).downloadContent().toBytes();
    } catch (BlobStorageException e) {
      throw new AssertionError("could not read blob " + bucket + "/" + key + "\n" + describe(), e);
    }
  }

  @Override
  public String describe() {
    StringBuilder out = new StringBuilder("Azurite " + server + ":\n");
    for (String container : new String[] {Configs.CONFIG_BUCKET, Configs.RESOURCE_BUCKET}) {
      try {
        out.append(
            client.getBlobContainerClient(container).listBlobs().stream()
                .map(BlobItem::getName)
                .map(name -> container + "/" + name)
                .collect(Collectors.joining("\n", "", "\n")));
      } catch (BlobStorageException e) {
        out.append("(could not list ").append(container).append(": ").append(e.getMessage());
      }
    }
    return out + server.describeLog(20);
  }

  @Override
  public void close() {
    server.close();
  }
}
