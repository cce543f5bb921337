package io.ballast.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

class PartedUploadTest {

  private static final int PART = PartedUpload.MIN_PART_SIZE;
  private static final ObjectKey KEY = ObjectKey.of("g/resources/snapshots/1.ndjson.gz");

  private final Recorder steps = new Recorder();

  @Test
  void bodyThatFitsInOnePartIsOneRequest() {
    byte[] body = bytes(1000);

    ObjectMeta meta = upload(body, PutOptions.of(WriteCondition.IF_ABSENT));

    assertThat(steps.calls).containsExactly("putWhole 1 1000");
    assertThat(steps.stored()).isEqualTo(body);
    assertThat(meta.size()).isEqualTo(1000);
  }

  @Test
  void bodyOfExactlyOnePartIsOneRequest() {
    upload(bytes(PART), PutOptions.of(WriteCondition.NONE));

    assertThat(steps.calls).containsExactly("putWhole 1 " + PART);
  }

  @Test
  void emptyBodyIsOneEmptyRequest() {
    upload(new byte[0], PutOptions.of(WriteCondition.NONE).withSha256Hex(sha256(new byte[0])));

    assertThat(steps.calls).containsExactly("putWhole 1 0");
  }

  @Test
  void longBodyGoesUpInPartsInOrderFromBuffersOfAnySize() {
    byte[] body = bytes(2 * PART + 123);

    ObjectMeta meta =
        upload(
            body,
            PutOptions.of(WriteCondition.IF_ABSENT)
                .withContentLength(body.length)
                .withSha256Hex(sha256(body)),
            b -> chunks(b, 777_777));

    assertThat(steps.calls)
        .containsExactly(
            "begin",
            "putPart 1 " + PART,
            "putPart 2 " + PART,
            "putPart 3 123",
            "commit [1, 2, 3] " + body.length);
    assertThat(steps.stored()).isEqualTo(body);
    assertThat(meta.size()).isEqualTo(body.length);
  }

  @Test
  void wrongChecksumOfAOnePartBodyStoresNothing() {
    PutOptions options = PutOptions.of(WriteCondition.NONE).withSha256Hex(sha256(bytes(7)));

    assertThatThrownBy(() -> upload(bytes(8), options))
        .isInstanceOf(ChecksumMismatchException.class)
        .hasMessageContaining(KEY.value())
        .hasMessageContaining("SHA-256");
    assertThat(steps.calls).isEmpty();
  }

  @Test
  void wrongChecksumOfAMultipartBodyAbortsBeforeCommit() {
    byte[] body = bytes(PART + 1);
    PutOptions options = PutOptions.of(WriteCondition.NONE).withSha256Hex(sha256(bytes(9)));

    assertThatThrownBy(() -> upload(body, options))
        .isInstanceOf(ChecksumMismatchException.class)
        .hasMessageContaining(KEY.value());
    assertThat(steps.calls).containsExactly("begin", "putPart 1 " + PART, "putPart 2 1", "abort");
  }

  @Test
  void wrongLengthIsRefused() {
    PutOptions options = PutOptions.of(WriteCondition.NONE).withContentLength(10);

    assertThatThrownBy(() -> upload(bytes(11), options))
        .isInstanceOf(ChecksumMismatchException.class)
        .hasMessageContaining("11 bytes, but 10 were declared");
    assertThat(steps.calls).isEmpty();
  }

  @Test
  void failedPartAbortsTheUploadAndKeepsTheError() {
    steps.failPart = 2;

    assertThatThrownBy(() -> upload(bytes(3 * PART), PutOptions.of(WriteCondition.NONE)))
        .isInstanceOf(StorageUnavailableException.class)
        .hasMessage("part 2 failed");
    assertThat(steps.calls).containsExactly("begin", "putPart 1 " + PART, "abort");
  }

  @Test
  void failedCommitAbortsTheUpload() {
    steps.failCommit = true;

    assertThatThrownBy(() -> upload(bytes(PART + 5), PutOptions.of(WriteCondition.IF_ABSENT)))
        .isInstanceOf(ConditionFailedException.class);
    assertThat(steps.calls).endsWith("commit [1, 2] " + (PART + 5), "abort");
  }

  @Test
  void failingBodyAbortsTheUpload() {
    Flux<ByteBuffer> body =
        Flux.concat(
            Flux.just(ByteBuffer.wrap(bytes(2 * PART + 10))),
            Flux.error(new IllegalStateException("snapshot writer failed")));

    assertThatThrownBy(
            () ->
                PartedUpload.upload(
                        "key " + KEY, body, PutOptions.of(WriteCondition.NONE), PART, steps)
                    .block())
        .hasMessage("snapshot writer failed");
    assertThat(steps.calls).containsExactly("begin", "putPart 1 " + PART, "abort");
  }

  @Test
  void partSizeBelowTheS3MinimumIsRefused() {
    assertThatThrownBy(
            () ->
                PartedUpload.upload(
                    "k", Flux.empty(), PutOptions.of(WriteCondition.NONE), PART - 1, steps))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private ObjectMeta upload(byte[] body, PutOptions options) {
    return upload(body, options, b -> Flux.just(ByteBuffer.wrap(b)));
  }

  private ObjectMeta upload(
      byte[] body, PutOptions options, Function<byte[], Flux<ByteBuffer>> split) {
    return PartedUpload.upload("key " + KEY, split.apply(body), options, PART, steps).block();
  }

  private static Flux<ByteBuffer> chunks(byte[] body, int size) {
    List<ByteBuffer> chunks = new ArrayList<>();
    for (int i = 0; i < body.length; i += size) {
      chunks.add(ByteBuffer.wrap(body, i, Math.min(size, body.length - i)).slice());
    }
    return Flux.fromIterable(chunks);
  }

  private static byte[] bytes(int n) {
    byte[] bytes = new byte[n];
    for (int i = 0; i < n; i++) {
      bytes[i] = (byte) (i * 31 + 7);
    }
    return bytes;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Records the calls and keeps the parts, as a server would. */
  private static final class Recorder implements PartedUpload.Steps<String, Integer> {

    final List<String> calls = new ArrayList<>();
    final ByteArrayOutputStream content = new ByteArrayOutputStream();
    int failPart = -1;
    boolean failCommit;

    @Override
    public Mono<ObjectMeta> putWhole(PartedUpload.Part whole) {
      return Mono.fromSupplier(
          () -> {
            calls.add("putWhole " + whole.number() + " " + whole.size());
            content.writeBytes(whole.bytes());
            return meta(whole.size());
          });
    }

    @Override
    public Mono<String> begin() {
      return Mono.fromSupplier(
          () -> {
            calls.add("begin");
            return "upload-1";
          });
    }

    @Override
    public Mono<Integer> putPart(String upload, PartedUpload.Part part) {
      return Mono.defer(
          () -> {
            if (part.number() == failPart) {
              return Mono.error(new StorageUnavailableException("part " + failPart + " failed"));
            }
            calls.add("putPart " + part.number() + " " + part.size());
            content.writeBytes(part.bytes());
            return Mono.just(part.number());
          });
    }

    @Override
    public Mono<ObjectMeta> commit(String upload, List<Integer> parts, long size) {
      return Mono.defer(
          () -> {
            calls.add("commit " + parts + " " + size);
            return failCommit
                ? Mono.error(new ConditionFailedException("exists", null))
                : Mono.just(meta(size));
          });
    }

    @Override
    public Mono<Void> abort(String upload) {
      return Mono.fromRunnable(() -> calls.add("abort"));
    }

    byte[] stored() {
      return content.toByteArray();
    }

    private static ObjectMeta meta(long size) {
      return new ObjectMeta(KEY, ETag.of("\"e\""), size, Instant.EPOCH, Map.of());
    }
  }
}
