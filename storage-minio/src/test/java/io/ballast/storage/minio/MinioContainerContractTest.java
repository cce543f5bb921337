package io.ballast.storage.minio;

import io.ballast.storage.AbstractObjectStorageContractTest;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.StorageBackend;
import io.minio.MakeBucketArgs;
import io.minio.MinioAsyncClient;
import java.net.URI;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The storage contract against a real MinIO server in a container. It needs Docker: without it
 * ({@code disabledWithoutDocker}) the class is reported as skipped, which is what happens on the
 * project's build machines; MinioContractTest covers the same contract on S3Proxy there.
 */
@Testcontainers(disabledWithoutDocker = true)
class MinioContainerContractTest extends AbstractObjectStorageContractTest {

  private static final String BUCKET = "contract";

  @Container
  private static final MinIOContainer MINIO =
      new MinIOContainer("minio/minio:RELEASE.2023-09-04T19-57-37Z");

  private static StorageBackend backend;
  private static ObjectStorage storage;

  @BeforeAll
  static void open() throws Exception {
    try (MinioAsyncClient admin =
        MinioAsyncClient.builder()
            .endpoint(MINIO.getS3URL())
            .credentials(MINIO.getUserName(), MINIO.getPassword())
            .build()) {
      admin.makeBucket(MakeBucketArgs.builder().bucket(BUCKET).build()).get(1, TimeUnit.MINUTES);
    }
    backend =
        MinioBlocks.open(URI.create(MINIO.getS3URL()), MINIO.getUserName(), MINIO.getPassword());
    storage = backend.bucket(BUCKET);
  }

  @AfterAll
  static void close() {
    if (backend != null) {
      backend.close();
    }
  }

  @Override
  protected ObjectStorage storage() {
    return storage;
  }
}
