package io.ballast.storage.s3;

import io.ballast.storage.ObjectStorage;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.containers.MinIOContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The contract against a real MinIO server in a Docker container, for developers whose machine has
 * Docker. Without a Docker engine (the project's build machines) Testcontainers reports the whole
 * class as skipped; the same contract runs there against S3Proxy and S3Mock.
 */
@Testcontainers(disabledWithoutDocker = true)
class MinioContainerContractTest extends AbstractS3ContractTest {

  private static final String BUCKET = "contract";

  @Container
  private static final MinIOContainer MINIO =
      new MinIOContainer("minio/minio:RELEASE.2025-04-22T22-12-26Z");

  private static S3Backend backend;

  @BeforeAll
  static void start() {
    URI endpoint = URI.create(MINIO.getS3URL());
    try (S3AsyncClient admin =
        S3AsyncClient.builder()
            .endpointOverride(endpoint)
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(MINIO.getUserName(), MINIO.getPassword())))
            .build()) {
      admin.createBucket(b -> b.bucket(BUCKET)).join();
    }
    backend =
        new S3Backend(
            new S3Settings(
                endpoint,
                "us-east-1",
                true,
                MINIO.getUserName(),
                MINIO.getPassword(),
                Duration.ofSeconds(30)));
  }

  @AfterAll
  static void stop() {
    if (backend != null) {
      backend.close();
    }
  }

  @Override
  protected ObjectStorage storage() {
    return backend.bucket(BUCKET);
  }
}
