package io.ballast.storage.minio;

import io.minio.ListObjectsV2Response;
import io.minio.MinioAsyncClient;
import java.util.concurrent.CompletableFuture;

/**
 * minio-java's async client with its one-page ListObjectsV2 call made public: the public {@code
 * listObjects} pages through a blocking iterator, and we want each page as a future. Not final:
 * tests extend it to corrupt a request in flight.
 */
class MinioClient extends MinioAsyncClient {

  /** S3's own maximum; tests may list with less to exercise paging. */
  static final int PAGE_SIZE = 1000;

  MinioClient(MinioAsyncClient built) {
    super(built);
  }

  /** One page of the keys below {@code prefix}, in ascending order, after {@code token}. */
  CompletableFuture<ListObjectsV2Response> listPage(
      String bucket, String region, String prefix, String token) throws Exception {
    return listObjectsV2Async(
        bucket, region, null, null, null, PAGE_SIZE, prefix, token, false, false, null, null);
  }
}
