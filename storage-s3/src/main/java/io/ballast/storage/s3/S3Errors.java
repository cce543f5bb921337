package io.ballast.storage.s3;

import io.ballast.storage.AccessDeniedException;
import io.ballast.storage.ChecksumMismatchException;
import io.ballast.storage.ConditionFailedException;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectNotFoundException;
import io.ballast.storage.StorageException;
import io.ballast.storage.StorageUnavailableException;
import io.ballast.storage.WriteCondition;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The one place where the SDK's failures become Ballast's closed set of {@link StorageException}s.
 * Messages name the backend, bucket and key and the server's status and code; they never contain a
 * credential (S3 never echoes the secret key, and the SDK's own messages name none).
 */
final class S3Errors {

  private static final Set<String> ACCESS_CODES =
      Set.of(
          "AccessDenied",
          "InvalidAccessKeyId",
          "SignatureDoesNotMatch",
          "InvalidToken",
          "ExpiredToken",
          "AllAccessDisabled");

  /**
   * S3 says BadDigest, S3Mock BadRequest, a signed payload changed in flight
   * XAmzContentSHA256Mismatch. S3Proxy 4.1.0 answers a body that fails its x-amz-checksum-sha256
   * with a bare 400 and no code, which is taken as a checksum refusal too (S3 always sends a code).
   */
  private static final Set<String> CHECKSUM_CODES =
      Set.of("BadDigest", "BadRequest", "InvalidDigest", "XAmzContentSHA256Mismatch");

  private S3Errors() {}

  /** The SDK's failure without the future's wrapping. */
  static Throwable unwrap(Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /** A 304 answer to If-None-Match: the object is unchanged. */
  static boolean isNotModified(Throwable error) {
    return unwrap(error) instanceof S3Exception s3 && s3.statusCode() == 304;
  }

  /** A 404 for the object itself; a missing bucket is a configuration error instead. */
  static boolean isMissingObject(Throwable error) {
    return unwrap(error) instanceof S3Exception s3
        && s3.statusCode() == 404
        && !"NoSuchBucket".equals(code(s3))
        && !"NoSuchUpload".equals(code(s3));
  }

  /**
   * @param bucket the bucket addressed
   * @param object the object in words, e.g. {@code aws_s3 bucket 'b' key 'k'}
   */
  static StorageException translate(Throwable error, String bucket, String object) {
    Throwable e = unwrap(error);
    if (e instanceof StorageException storage) {
      return storage;
    }
    if (e instanceof S3Exception s3) {
      return fromServer(s3, bucket, object);
    }
    if (e instanceof SdkClientException client
        && client.getMessage() != null
        && client.getMessage().toLowerCase(Locale.ROOT).contains("checksum")) {
      // The SDK's own check of a response it received.
      return new ChecksumMismatchException(object + ": " + client.getMessage(), client);
    }
    // Connection refused or reset, timeouts, I/O: all worth retrying later.
    return new StorageUnavailableException(
        object + ": S3 is unreachable or did not answer in time: " + describe(e), e);
  }

  /**
   * As {@link #translate}, for a request that writes under {@code condition}: S3 answers an
   * If-Match on a missing object with 404, which is the condition failing.
   */
  static StorageException translateWrite(
      Throwable error, String bucket, String object, WriteCondition condition) {
    if (condition instanceof WriteCondition.IfMatch ifMatch && isMissingObject(error)) {
      return new ConditionFailedException(
          object + ": the object does not exist (If-Match " + ifMatch.etag() + ")", unwrap(error));
    }
    return translate(error, bucket, object);
  }

  private static StorageException fromServer(S3Exception e, String bucket, String object) {
    int status = e.statusCode();
    String code = code(e);
    String said = object + ": HTTP " + status + (code == null ? "" : " " + code) + serverMessage(e);
    if ("NoSuchBucket".equals(code)) {
      return missingBucket(bucket, object, said, e);
    }
    if (status == 412
        || "PreconditionFailed".equals(code)
        || "ConditionalRequestConflict".equals(code)) {
      return new ConditionFailedException(
          said + ": the object changed or exists (write condition not met)", e);
    }
    if (status == 401 || status == 403 || (code != null && ACCESS_CODES.contains(code))) {
      return new AccessDeniedException(
          said + ": check access_key, secret_key and the bucket policy", e);
    }
    if (status == 400 && (code == null || CHECKSUM_CODES.contains(code))) {
      return new ChecksumMismatchException(said + ": the server refused the body's checksum", e);
    }
    if (status == 404) {
      return new ObjectNotFoundException(said, e);
    }
    if (status >= 500 || status == 408 || status == 429) {
      return new StorageUnavailableException(said, e);
    }
    // Other 3xx/4xx: a wrong region, a malformed bucket name, an unsupported request.
    return new InvalidStorageConfigException(said, e);
  }

  /**
   * HeadBucket's answer for a missing bucket: a bare 404 (a HEAD has no body to carry a code).
   * Anything else, 403 included, says nothing about whether the bucket exists.
   */
  static boolean isMissingBucket(Throwable error) {
    return unwrap(error) instanceof S3Exception s3 && s3.statusCode() == 404;
  }

  static MissingBucketException missingBucket(
      String bucket, String object, String said, Throwable cause) {
    return new MissingBucketException(
        bucket, object + ": bucket '" + bucket + "' does not exist (" + said + ")", cause);
  }

  private static String code(S3Exception e) {
    AwsErrorDetails details = e.awsErrorDetails();
    return details == null ? null : details.errorCode();
  }

  private static String serverMessage(S3Exception e) {
    AwsErrorDetails details = e.awsErrorDetails();
    String message = details == null ? null : details.errorMessage();
    return message == null || message.isBlank() ? "" : " (" + message + ")";
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }
}
