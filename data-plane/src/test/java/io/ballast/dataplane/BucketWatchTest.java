package io.ballast.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.StorageUnavailableException;
import io.ballast.storage.filesystem.FilesystemBackend;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

class BucketWatchTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @TempDir Path root;
  private final List<String> told = new ArrayList<>();

  private final BucketWatch.Listener listener =
      new BucketWatch.Listener() {
        @Override
        public void missing(String detail) {
          told.add("missing " + detail);
        }

        @Override
        public void found() {
          told.add("found");
        }
      };

  @Test
  void aMissingBucketIsToldOnceNamedAndClearedWhenItAppears() throws Exception {
    FilesystemBackend backend = new FilesystemBackend(root);
    Files.createDirectory(root.resolve("config"));
    BucketWatch watch =
        new BucketWatch(
            List.of(
                new BucketWatch.Bucket(
                    "fallback_cp.filesystem.config_bucket", backend.bucket("config")),
                new BucketWatch.Bucket(
                    "fallback_cp.filesystem.resource_bucket", backend.bucket("resources"))),
            Duration.ofSeconds(1),
            listener);

    assertThat(watch.checkUnseen().block(TIMEOUT)).isFalse();
    assertThat(watch.checkUnseen().block(TIMEOUT)).isFalse();

    assertThat(watch.anyMissing()).isTrue();
    assertThat(watch.missingNow()).containsOnlyKeys("fallback_cp.filesystem.resource_bucket");
    assertThat(told)
        .containsExactly(
            "missing fallback_cp.filesystem.resource_bucket: filesystem bucket 'resources' does"
                + " not exist: no folder "
                + root.resolve("resources")
                + " (buckets are never created; create the folder)");

    Files.createDirectory(root.resolve("resources"));
    assertThat(watch.checkUnseen().block(TIMEOUT)).isTrue();
    assertThat(watch.anyMissing()).isFalse();
    assertThat(told).hasSize(2).last().isEqualTo("found");
  }

  @Test
  void storageThatCannotAnswerIsNotCalledMissing() {
    BucketWatch watch =
        new BucketWatch(
            List.of(
                new BucketWatch.Bucket("fallback_cp.aws_s3.resource_bucket", new Unreachable())),
            Duration.ofSeconds(1),
            listener);

    assertThat(watch.checkUnseen().block(TIMEOUT)).isFalse();
    assertThat(watch.anyMissing()).isFalse();
    assertThat(told).isEmpty();
  }

  /** Storage that refuses every connection. */
  private static final class Unreachable implements ObjectStorage {
    private static <T> Mono<T> refused() {
      return Mono.error(new StorageUnavailableException("aws_s3: connection refused"));
    }

    @Override
    public String describe() {
      return "unreachable";
    }

    @Override
    public Mono<Void> checkExists() {
      return refused();
    }

    @Override
    public Mono<ObjectMeta> put(ObjectKey key, Flux<ByteBuffer> body, PutOptions options) {
      return refused();
    }

    @Override
    public Mono<ReadResult> get(ObjectKey key, ReadCondition condition) {
      return refused();
    }

    @Override
    public Mono<ObjectMeta> head(ObjectKey key) {
      return refused();
    }

    @Override
    public Flux<ObjectMeta> list(ObjectKey prefix) {
      return Flux.error(new StorageUnavailableException("aws_s3: connection refused"));
    }

    @Override
    public Mono<Void> delete(ObjectKey key) {
      return refused();
    }
  }
}
