package io.ballast.storage.minio;

import io.ballast.storage.AccessDeniedException;
import io.ballast.storage.ChecksumMismatchException;
import io.ballast.storage.ConditionFailedException;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectNotFoundException;
import io.ballast.storage.StorageException;
import io.ballast.storage.StorageUnavailableException;
import io.ballast.storage.WriteCondition;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.InvalidResponseException;
import io.minio.errors.ServerException;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The one place where minio-java's failures become Ballast's closed set of storage exceptions.
 * Messages name the object ({@code minio bucket 'b' key 'k'}) and the server's status and code,
 * never the server's message text or a credential.
 */
final class MinioErrors {

  private static final Set<String> ACCESS_DENIED =
      Set.of(
          "AccessDenied",
          "InvalidAccessKeyId",
          "SignatureDoesNotMatch",
          "AuthorizationHeaderMalformed",
          "ExpiredToken",
          "InvalidToken");

  /** What S3 servers answer when the body does not match its declared digest or signature. */
  private static final Set<String> CHECKSUM =
      Set.of(
          "BadDigest",
          "InvalidDigest",
          "BadRequest",
          "Md5Mismatch",
          "XAmzContentSHA256Mismatch",
          "XAmzContentChecksumMismatch",
          "IncompleteBody");

  private MinioErrors() {}

  /** A satisfied If-None-Match: minio-java reports the 304 as a {@link ServerException}. */
  static boolean isNotModified(Throwable error) {
    return unwrap(error) instanceof ServerException e && e.statusCode() == 304;
  }

  /**
   * The object (not the bucket, not an upload) is missing; minio-java names a body-less 404 on an
   * object NoSuchKey too.
   */
  static boolean isNoSuchKey(Throwable error) {
    return unwrap(error) instanceof ErrorResponseException e
        && "NoSuchKey".equals(e.errorResponse().code());
  }

  /**
   * Maps a failed write: under If-Match, S3 answers a missing object with 404 NoSuchKey, which for
   * the caller is the condition failing.
   */
  static StorageException mapWrite(
      Throwable error, String bucket, String object, WriteCondition condition) {
    if (condition instanceof WriteCondition.IfMatch && isNoSuchKey(error)) {
      return new ConditionFailedException(
          object + ": the write condition does not hold: the object does not exist", unwrap(error));
    }
    return map(error, bucket, object);
  }

  /**
   * Maps a failed request on {@code object} (e.g. {@code minio bucket 'b' key 'k'}) whose bucket is
   * {@code bucket}.
   */
  static StorageException map(Throwable error, String bucket, String object) {
    Throwable cause = unwrap(error);
    if (cause instanceof StorageException known) {
      return known;
    }
    if (cause instanceof ErrorResponseException e) {
      return fromResponse(e, bucket, object);
    }
    if (cause instanceof ServerException e) {
      return new StorageUnavailableException(
          object + ": the server answered HTTP " + e.statusCode(), e);
    }
    if (cause instanceof InvalidResponseException e) {
      return new StorageUnavailableException(
          object + ": the server's answer is not an S3 response (a proxy in the way?)", e);
    }
    if (cause instanceof IllegalArgumentException e) {
      // minio-java checks names before it sends anything, e.g. a bucket name S3 would refuse.
      return new InvalidStorageConfigException(object + ": " + e.getMessage(), e);
    }
    if (cause instanceof IOException e) {
      return new StorageUnavailableException(
          object
              + ": "
              + e.getClass().getSimpleName()
              + " talking to the server: "
              + e.getMessage(),
          e);
    }
    return new StorageUnavailableException(
        object + ": the request failed: " + cause.getClass().getSimpleName(), cause);
  }

  /**
   * {@code object} names what was asked for; the bucket it lives in does not exist. {@code answer}
   * is the server's status and code, or empty.
   */
  static MissingBucketException noSuchBucket(
      String bucket, String object, String answer, Throwable cause) {
    return new MissingBucketException(
        bucket, object + ": bucket '" + bucket + "' does not exist" + answer, cause);
  }

  private static StorageException fromResponse(
      ErrorResponseException e, String bucket, String object) {
    String code = e.errorResponse().code();
    int status = e.response().code();
    String answer = " (HTTP " + status + " " + code + ")";
    if ("NoSuchBucket".equals(code)) {
      return noSuchBucket(bucket, object, answer, e);
    }
    if (status == 412 || "PreconditionFailed".equals(code)) {
      return new ConditionFailedException(
          object + ": the write condition does not hold" + answer, e);
    }
    if (status == 401 || status == 403 || ACCESS_DENIED.contains(code)) {
      return new AccessDeniedException(
          object + ": access denied; check access_key and secret_key" + answer, e);
    }
    if (status == 400 && CHECKSUM.contains(code)) {
      return new ChecksumMismatchException(
          object + ": the server refused the body as corrupt" + answer, e);
    }
    if ("NoSuchKey".equals(code) || status == 404) {
      return new ObjectNotFoundException(object + ": no such object" + answer, e);
    }
    if (status >= 500) {
      return new StorageUnavailableException(object + ": server error" + answer, e);
    }
    return new InvalidStorageConfigException(
        object + ": the server refused the request" + answer, e);
  }

  private static Throwable unwrap(Throwable error) {
    Throwable current = error;
    while ((current instanceof CompletionException || current instanceof ExecutionException)
        && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }
}
