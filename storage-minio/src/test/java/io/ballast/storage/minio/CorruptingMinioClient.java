package io.ballast.storage.minio;

import io.minio.MinioAsyncClient;
import io.minio.credentials.Credentials;
import io.minio.http.Method;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.RequestBody;
import okio.Buffer;

/**
 * Flips one byte of the next request body after minio-java has computed its x-amz-content-sha256,
 * as a fault on the wire would: the server sees a body that does not match its signed digest.
 */
final class CorruptingMinioClient extends MinioClient {

  private final AtomicBoolean corruptNext = new AtomicBoolean();

  CorruptingMinioClient(MinioAsyncClient built) {
    super(built);
  }

  void corruptNextRequestBody() {
    corruptNext.set(true);
  }

  boolean corruptionPending() {
    return corruptNext.get();
  }

  @Override
  protected Request createRequest(
      HttpUrl url, Method method, Headers headers, Object body, int length, Credentials creds)
      throws io.minio.errors.InsufficientDataException,
          io.minio.errors.InternalException,
          IOException,
          java.security.NoSuchAlgorithmException {
    Request request = super.createRequest(url, method, headers, body, length, creds);
    RequestBody original = request.body();
    if (original == null || original.contentLength() <= 0 || !corruptNext.getAndSet(false)) {
      return request;
    }
    Buffer buffer = new Buffer();
    original.writeTo(buffer);
    byte[] bytes = buffer.readByteArray();
    bytes[bytes.length / 2] ^= 0x01;
    return request
        .newBuilder()
        .method(request.method(), RequestBody.create(bytes, original.contentType()))
        .build();
  }
}
