package io.ballast.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.AbstractObjectStorageContractTest;
import io.ballast.storage.ConditionFailedException;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.PartedUpload;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.WriteCondition;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * The core contract plus what is particular to S3: ETags kept exactly as the server gives them, and
 * write conditions on CompleteMultipartUpload for bodies larger than one part.
 */
abstract class AbstractS3ContractTest extends AbstractObjectStorageContractTest {

  /** Two parts: the upload goes through CreateMultipartUpload … CompleteMultipartUpload. */
  private static final int MULTIPART_SIZE = PartedUpload.DEFAULT_PART_SIZE + 1024 * 1024;

  /**
   * Whether AbortMultipartUpload leaves an existing object under the same key alone, as S3 does.
   * PartedUpload aborts the upload after a refused CompleteMultipartUpload.
   */
  protected boolean abortKeepsTheExistingObject() {
    return true;
  }

  @Test
  void etagIsKeptQuotedAsTheServerGaveIt() {
    ObjectMeta put = put(root().resolve("etag"), "body", WriteCondition.NONE);

    assertThat(put.etag().value()).startsWith("\"").endsWith("\"");
    assertThat(storage().head(put.key()).block(TIMEOUT).etag()).isEqualTo(put.etag());
  }

  @Test
  void multipartUploadKeepsBodyAndMetadata() {
    ObjectKey key = root().resolve("snapshots/multipart.ndjson.gz");
    byte[] body = random(MULTIPART_SIZE);

    ObjectMeta put =
        put(
            key,
            body,
            PutOptions.of(WriteCondition.IF_ABSENT)
                .withSha256Hex(sha256(body))
                .withMetadata(Map.of("sha256", sha256(body))));

    assertThat(put.size()).isEqualTo(body.length);
    ReadResult.Found found = found(key, ReadCondition.NONE);
    assertThat(found.meta().etag()).isEqualTo(put.etag());
    assertThat(found.meta().metadata()).containsEntry("sha256", sha256(body));
    assertThat(bytes(found.body())).isEqualTo(body);
  }

  @Test
  void multipartIfAbsentRefusesAnExistingObject() {
    ObjectKey key = root().resolve("snapshots/0001.ndjson.gz");
    ObjectMeta first = put(key, "first", WriteCondition.NONE);

    StepVerifier.create(
            storage()
                .put(key, body(random(MULTIPART_SIZE)), PutOptions.of(WriteCondition.IF_ABSENT)))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(ConditionFailedException.class)
                    .hasMessageContaining(key.value()))
        .verify(TIMEOUT);
    if (abortKeepsTheExistingObject()) {
      assertThat(storage().head(key).block(TIMEOUT).etag()).isEqualTo(first.etag());
    }
  }

  @Test
  void multipartIfMatchReplacesTheCurrentVersionOnly() {
    ObjectKey key = root().resolve("latest.json");
    ObjectMeta v1 = put(key, "v1", WriteCondition.NONE);
    byte[] body = random(MULTIPART_SIZE);

    ObjectMeta v2 = put(key, body, PutOptions.of(WriteCondition.ifMatch(v1.etag())));

    assertThat(v2.etag()).isNotEqualTo(v1.etag());
    StepVerifier.create(
            storage().put(key, body(body), PutOptions.of(WriteCondition.ifMatch(v1.etag()))))
        .expectError(ConditionFailedException.class)
        .verify(TIMEOUT);
    if (abortKeepsTheExistingObject()) {
      assertThat(storage().head(key).block(TIMEOUT).etag()).isEqualTo(v2.etag());
    }
  }

  private static Flux<ByteBuffer> body(byte[] bytes) {
    // Several buffers, as a real stream arrives.
    int chunk = 1024 * 1024;
    return Flux.range(0, (bytes.length + chunk - 1) / chunk)
        .map(i -> ByteBuffer.wrap(bytes, i * chunk, Math.min(chunk, bytes.length - i * chunk)));
  }

  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }
}
