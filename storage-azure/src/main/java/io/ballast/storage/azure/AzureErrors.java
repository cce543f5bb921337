package io.ballast.storage.azure;

import com.azure.core.exception.ClientAuthenticationException;
import com.azure.core.exception.HttpResponseException;
import com.azure.storage.blob.models.BlobErrorCode;
import com.azure.storage.blob.models.BlobStorageException;
import io.ballast.storage.AccessDeniedException;
import io.ballast.storage.ChecksumMismatchException;
import io.ballast.storage.ConditionFailedException;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectNotFoundException;
import io.ballast.storage.StorageException;
import io.ballast.storage.StorageUnavailableException;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import reactor.core.Exceptions;

/**
 * The one place where the SDK's failures become the storage SPI's closed set. Messages name the
 * container and the object, plus the HTTP status and Azure error code; never a credential (the
 * SDK's own message, which quotes the server's answer, stays in the cause).
 */
final class AzureErrors {

  private static final Set<BlobErrorCode> CHECKSUM_CODES =
      Set.of(
          BlobErrorCode.MD5MISMATCH,
          BlobErrorCode.INVALID_MD5,
          BlobErrorCode.fromString("Crc64Mismatch"));

  private AzureErrors() {}

  /** An HTTP status of a storage error, or -1 when the failure has none (I/O, timeout). */
  static int status(Throwable error) {
    return unwrap(error) instanceof HttpResponseException e && e.getResponse() != null
        ? e.getResponse().getStatusCode()
        : -1;
  }

  /** The Azure error code of a storage error, or {@code null}. */
  static BlobErrorCode code(Throwable error) {
    return unwrap(error) instanceof BlobStorageException e ? e.getErrorCode() : null;
  }

  /**
   * @param container the container the request went to
   * @param object what it was about, e.g. {@code key 'a/b'} or {@code prefix 'a'}
   */
  static StorageException translate(Throwable error, String container, String object) {
    Throwable cause = unwrap(error);
    if (cause instanceof StorageException known) {
      return known;
    }
    String where = "azure_blob container '" + container + "' " + object + ": ";
    if (cause instanceof ClientAuthenticationException) {
      return new AccessDeniedException(where + "could not obtain or use credentials", cause);
    }
    if (!(cause instanceof HttpResponseException)
        && causedBy(cause, IllegalArgumentException.class)) {
      // The SDK could not build or sign the request, e.g. an account_key that is not base64 (it
      // wraps that in a RuntimeException; neither message quotes the key).
      return new InvalidStorageConfigException(
          where
              + "the request could not be built from the configuration ("
              + cause.getMessage()
              + ")",
          cause);
    }
    if (!(cause instanceof HttpResponseException http) || http.getResponse() == null) {
      return new StorageUnavailableException(
          where + "storage unreachable or too slow (" + cause.getClass().getSimpleName() + ")",
          cause);
    }
    int status = http.getResponse().getStatusCode();
    BlobErrorCode code = code(cause);
    String detail = " (HTTP " + status + (code == null ? "" : " " + code) + ")";
    if (status == 412 || code == BlobErrorCode.BLOB_ALREADY_EXISTS) {
      return new ConditionFailedException(
          where + "the write condition does not hold" + detail, cause);
    }
    if (status == 400 && (CHECKSUM_CODES.contains(code) || mentionsMd5(cause))) {
      return new ChecksumMismatchException(
          where + "the server received bytes that do not match their checksum" + detail, cause);
    }
    if (status == 401 || status == 403) {
      return new AccessDeniedException(where + "access denied" + detail, cause);
    }
    if (code == BlobErrorCode.CONTAINER_NOT_FOUND) {
      return missingContainer(container, where, detail, cause);
    }
    if (status == 404) {
      return new ObjectNotFoundException(where + "not found" + detail, cause);
    }
    if (status >= 500 || status == 408 || status == 429) {
      return new StorageUnavailableException(where + "the server failed" + detail, cause);
    }
    return new InvalidStorageConfigException(
        where + "the server refused the request" + detail, cause);
  }

  /** {@code where} names the container and what was asked of it; {@code detail} the answer. */
  static MissingBucketException missingContainer(
      String container, String where, String detail, Throwable cause) {
    return new MissingBucketException(
        container, where + "bucket '" + container + "' does not exist" + detail, cause);
  }

  /**
   * Azurite answers a wrong transactional Content-MD5 with 400 InvalidOperation "Provided
   * contentMD5 doesn't match." where Azure says Md5Mismatch.
   */
  private static boolean mentionsMd5(Throwable error) {
    return error instanceof BlobStorageException e
        && e.getServiceMessage() != null
        && e.getServiceMessage().toLowerCase(Locale.ROOT).contains("md5");
  }

  private static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static Throwable unwrap(Throwable error) {
    Throwable cause = Exceptions.unwrap(error);
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = Exceptions.unwrap(cause.getCause());
    }
    return cause;
  }
}
