package io.ballast.storage.filesystem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ballast.config.ConfigException;
import io.ballast.config.ConfigNode;
import io.ballast.storage.AbstractObjectStorageContractTest;
import io.ballast.storage.InvalidStorageConfigException;
import io.ballast.storage.MissingBucketException;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectMeta;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.ReadCondition;
import io.ballast.storage.ReadResult;
import io.ballast.storage.StorageBackend;
import io.ballast.storage.StorageProvider;
import io.ballast.storage.WriteCondition;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class FilesystemObjectStorageTest extends AbstractObjectStorageContractTest {

  @TempDir Path root;

  private ObjectStorage storage;

  @BeforeEach
  void openBucket() throws IOException {
    // Buckets are folders that must exist, as an S3 bucket must.
    Files.createDirectory(root.resolve("resources"));
    storage = new FilesystemBackend(root).bucket("resources");
  }

  @Override
  protected ObjectStorage storage() {
    return storage;
  }

  @Test
  void describesTheBucketFolder() {
    assertThat(storage.describe())
        .isEqualTo("filesystem:" + root.toAbsolutePath().resolve("resources"));
  }

  @Test
  void objectFileIsOneHeaderLineThenTheBody() throws IOException {
    ObjectKey key = root().resolve("latest.json");
    ObjectMeta meta =
        put(
            key,
            "{\"v\":1}".getBytes(StandardCharsets.UTF_8),
            PutOptions.of(WriteCondition.NONE).withMetadata(Map.of("kind", "resources")));

    String file = Files.readString(root.resolve("resources").resolve(key.value()));

    assertThat(meta.etag().value())
        .isEqualTo("\"" + sha256("{\"v\":1}".getBytes(StandardCharsets.UTF_8)) + "\"");
    assertThat(file).startsWith("BALLAST-OBJECT 1 {").endsWith("}\n{\"v\":1}");
    assertThat(file.lines().findFirst().orElseThrow())
        .contains("\"metadata\":{\"kind\":\"resources\"}")
        .contains("\"size\":7");
  }

  @Test
  void objectsSurviveANewBackendOverTheSameRoot() {
    ObjectKey key = root().resolve("latest.json");
    ObjectMeta written = put(key, "durable", WriteCondition.IF_ABSENT);

    ObjectStorage reopened = new FilesystemBackend(root).bucket("resources");

    ReadResult result = reopened.get(key, ReadCondition.NONE).block(TIMEOUT);
    assertThat(result).isInstanceOf(ReadResult.Found.class);
    ReadResult.Found found = (ReadResult.Found) result;
    assertThat(found.meta().etag()).isEqualTo(written.etag());
    assertThat(text(found.body())).isEqualTo("durable");
  }

  @Test
  void leftoverTempFilesAreInvisible() throws IOException {
    ObjectKey key = root().resolve("latest.json");
    put(key, "kept", WriteCondition.NONE);
    Path tmp = root.resolve("resources/.ballast/tmp");
    Files.writeString(tmp.resolve("crashed-writer.body"), "half a body");
    Files.writeString(tmp.resolve("crashed-writer.object"), "BALLAST-OBJECT 1 {");

    assertThat(storage.list(root()).map(ObjectMeta::key).collectList().block(TIMEOUT))
        .containsExactly(key);
    assertThat(text(found(key, ReadCondition.NONE).body())).isEqualTo("kept");
  }

  @Test
  void ifAbsentHasOneWinnerAcrossProcesses() throws Exception {
    ObjectKey prefix = root().resolve("race");
    int count = 300;
    Process other =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m",
                "-cp",
                System.getProperty("java.class.path"),
                CrossProcessWriter.class.getName(),
                root.toString(),
                "resources",
                prefix.value(),
                Integer.toString(count),
                "other")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    List<Integer> otherWon;
    List<Integer> thisWon;
    try (BufferedReader out =
            new BufferedReader(
                new InputStreamReader(other.getInputStream(), StandardCharsets.UTF_8));
        Writer in = new OutputStreamWriter(other.getOutputStream(), StandardCharsets.UTF_8)) {
      assertThat(out.readLine()).isEqualTo("ready");
      in.write("go\n");
      in.flush();
      thisWon = CrossProcessWriter.race(storage, prefix, count, "this");
      otherWon = out.lines().map(Integer::valueOf).toList();
    } finally {
      other.destroy();
    }
    assertThat(other.waitFor()).isZero();

    List<Integer> all = new ArrayList<>(thisWon);
    all.addAll(otherWon);
    all.sort(null);
    assertThat(all).isEqualTo(IntStream.range(0, count).boxed().toList());
    for (int i : otherWon) {
      assertThat(text(found(prefix.resolve(Integer.toString(i)), ReadCondition.NONE).body()))
          .isEqualTo("other");
    }
  }

  @Test
  void aReadInProgressKeepsTheContentItOpened() {
    ObjectKey key = root().resolve("latest.json");
    put(key, "old", WriteCondition.NONE);
    ReadResult.Found opened = found(key, ReadCondition.NONE);

    put(key, "new", WriteCondition.NONE);

    assertThat(text(opened.body())).isEqualTo("old");
  }

  @Test
  void missingBucketFolderIsReportedAndNeverCreated() throws IOException {
    Path folder = root.resolve("nowhere").resolve("config");
    ObjectStorage missing = new FilesystemBackend(root.resolve("nowhere")).bucket("config");
    ObjectKey key = ObjectKey.of("g/instance/latest.json");

    for (Mono<?> operation :
        List.of(
            missing.checkExists(),
            missing.get(key, ReadCondition.NONE),
            missing.head(key),
            missing.list(ObjectKey.of("g")).collectList(),
            missing.delete(key),
            missing.put(
                key,
                Flux.just(ByteBuffer.wrap(new byte[] {1})),
                PutOptions.of(WriteCondition.NONE)))) {
      StepVerifier.create(operation)
          .expectErrorSatisfies(
              e ->
                  assertThat(e)
                      .isInstanceOf(MissingBucketException.class)
                      .hasMessage(
                          "filesystem bucket 'config' does not exist: no folder "
                              + folder
                              + " (buckets are never created; create the folder)"))
          .verify(TIMEOUT);
    }
    assertThat(root.resolve("nowhere")).doesNotExist();

    Files.createDirectories(folder);
    StepVerifier.create(missing.checkExists()).expectComplete().verify(TIMEOUT);
    assertThat(missing.get(key, ReadCondition.NONE).block(TIMEOUT))
        .isEqualTo(new ReadResult.NotFound(key));
  }

  @Test
  void aFileWhereTheBucketFolderShouldBeIsReported() throws IOException {
    Files.writeString(root.resolve("config"), "not a folder");

    StepVerifier.create(new FilesystemBackend(root).bucket("config").checkExists())
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(MissingBucketException.class)
                    .hasMessageContaining(root.resolve("config") + " is not a folder"))
        .verify(TIMEOUT);
  }

  @Test
  void reservedKeysAreRefused() {
    ObjectKey reserved = ObjectKey.of(".ballast/lock");

    StepVerifier.create(
            storage.put(
                reserved,
                Flux.just(ByteBuffer.wrap(new byte[1])),
                PutOptions.of(WriteCondition.NONE)))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(".ballast/lock"))
        .verify(TIMEOUT);
    StepVerifier.create(storage.get(reserved, ReadCondition.NONE))
        .expectError(IllegalArgumentException.class)
        .verify(TIMEOUT);
  }

  @Test
  void aDeletedFolderNameCanBecomeAKey() {
    ObjectKey child = root().resolve("a/b");
    put(child, "child", WriteCondition.NONE);
    storage.delete(child).block(TIMEOUT);

    put(root().resolve("a"), "parent", WriteCondition.IF_ABSENT);

    assertThat(text(found(root().resolve("a"), ReadCondition.NONE).body())).isEqualTo("parent");
  }

  @Test
  void aKeyCannotBeBothAnObjectAndAFolder() {
    put(root().resolve("a/b"), "child", WriteCondition.NONE);
    put(root().resolve("c"), "file", WriteCondition.NONE);

    StepVerifier.create(putMono(root().resolve("a"), "x", WriteCondition.NONE))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(root().resolve("a").value()))
        .verify(TIMEOUT);
    StepVerifier.create(putMono(root().resolve("c/d"), "x", WriteCondition.NONE))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(root().resolve("c/d").value()))
        .verify(TIMEOUT);
    assertThat(storage.get(root().resolve("a"), ReadCondition.NONE).block(TIMEOUT))
        .isEqualTo(new ReadResult.NotFound(root().resolve("a")));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", ".", "..", "a/b", ".ballast", "-x", "a\\b"})
  void unsafeBucketNamesAreRefused(String name) {
    assertThatThrownBy(() -> new FilesystemBackend(root).bucket(name))
        .isInstanceOf(InvalidStorageConfigException.class)
        .hasMessageContaining("'" + name + "'");
  }

  @Test
  void providerIsFoundByNameAndReadsThePath() {
    StorageProvider provider =
        ServiceLoader.load(StorageProvider.class).stream()
            .map(ServiceLoader.Provider::get)
            .filter(p -> p.name().equals("filesystem"))
            .findFirst()
            .orElseThrow();
    ConfigNode block =
        ConfigNode.root(
                "conf/config.yaml",
                Map.of(
                    "fallback_cp",
                    Map.of(
                        "filesystem",
                        Map.of("path", root.toString(), "resource_bucket", "resources"))))
            .child("fallback_cp")
            .orElseThrow()
            .child("filesystem")
            .orElseThrow();

    try (StorageBackend backend = provider.create(block)) {
      assertThat(backend.name()).isEqualTo("filesystem");
      assertThat(backend.bucket("resources").describe()).isEqualTo(storage.describe());
    }
  }

  @Test
  void providerResolvesARelativePathAgainstTheWorkingDirectory() {
    ConfigNode block =
        ConfigNode.root("conf/config.yaml", Map.of("filesystem", Map.of("path", "data/storage")))
            .child("filesystem")
            .orElseThrow();

    try (FilesystemBackend backend =
        (FilesystemBackend) new FilesystemStorageProvider().create(block)) {
      assertThat(backend.root()).isEqualTo(Path.of("").toAbsolutePath().resolve("data/storage"));
    }
  }

  @Test
  void providerRefusesAnUnknownKeyNamingItsPath() {
    ConfigNode block =
        ConfigNode.root(
                "conf/config.yaml",
                Map.of("filesystem", Map.of("path", "/tmp/x", "paht", "/tmp/y")))
            .child("filesystem")
            .orElseThrow();

    assertThatThrownBy(() -> new FilesystemStorageProvider().create(block))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("filesystem.paht");
  }

  @Test
  void providerRequiresThePath() {
    ConfigNode block =
        ConfigNode.root("conf/config.yaml", Map.of("filesystem", Map.of("resource_bucket", "r")))
            .child("filesystem")
            .orElseThrow();

    assertThatThrownBy(() -> new FilesystemStorageProvider().create(block))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("filesystem.path");
  }
}
