package io.ballast.storage.minio;

import io.minio.ListObjectsV2Response;
import io.minio.MinioAsyncClient;
import java.util.concurrent.CompletableFuture;

/**
 * minio-java's async client with its one-page ListObjectsV2 call made public: the public {@code
 * listObjects} pages through a blocking iterator, and we want each page as a future.
 */
final class MinioClient extends MinioAsyncClient {

  MinioClient(MinioAsyncClient built) {
    super(built);
  }

  /** One page of the keys below {@code prefix}, in ascending order, after {@code token}. */
  CompletableFuture<ListObjectsV2Response> listPage(
      String bucket, String region, String prefix, String token) throws Exception {
    return listObjectsV2Async(
        bucket, region, null, null, null, null, prefix, token, false, false, null, null);
  }
}
