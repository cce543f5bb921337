package io.ballast.storage.azure;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.storage.blob.BlobServiceClientBuilder;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.WriteCondition;
import io.ballast.testkit.AzuriteServer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/** A listing longer than one page is followed to its end, in ascending key order. */
class AzureBlobListPagingTest {

  private static final Duration BLOCK = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void listFollowsEveryPage() {
    try (AzuriteServer server = AzuriteServer.start(dir)) {
      AzureTestSupport.createContainer(server, "paging");
      ObjectStorage storage =
          new AzureBlobObjectStorage(
              new BlobServiceClientBuilder()
                  .connectionString(server.connectionString())
                  .buildAsyncClient()
                  .getBlobContainerAsyncClient("paging"),
              3);
      ObjectKey prefix = ObjectKey.of("group/resources/snapshots");
      List<ObjectKey> keys =
          IntStream.rangeClosed(1, 7)
              .mapToObj(i -> prefix.resolve("%04d.ndjson.gz".formatted(8 - i)))
              .toList();
      for (ObjectKey key : keys) {
        byte[] body = key.value().getBytes(StandardCharsets.UTF_8);
        storage
            .put(key, Flux.just(ByteBuffer.wrap(body)), PutOptions.of(WriteCondition.NONE))
            .block(BLOCK);
      }

      List<ObjectMeta> listed = storage.list(prefix).collectList().block(BLOCK);

      assertThat(listed)
          .extracting(ObjectMeta::key)
          .containsExactlyElementsOf(keys.stream().sorted().toList());
    }
  }
}
