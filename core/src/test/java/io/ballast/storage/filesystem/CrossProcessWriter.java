package io.ballast.storage.filesystem;

import io.ballast.storage.ConditionFailedException;
import io.ballast.storage.ObjectKey;
import io.ballast.storage.ObjectStorage;
import io.ballast.storage.PutOptions;
import io.ballast.storage.WriteCondition;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Flux;

/**
 * The other process of {@code FilesystemObjectStorageTest#ifAbsentHasOneWinnerAcrossProcesses}:
 * creates keys {@code <prefix>/0 … <prefix>/<count-1>} with If-None-Match and prints the index of
 * each key it won.
 */
final class CrossProcessWriter {

  private CrossProcessWriter() {}

  /** Args: root, bucket, prefix, count, writer name. Starts on a line from stdin. */
  public static void main(String[] args) throws Exception {
    ObjectStorage storage = new FilesystemBackend(Path.of(args[0])).bucket(args[1]);
    System.out.println("ready");
    System.out.flush();
    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    for (int i : race(storage, ObjectKey.of(args[2]), Integer.parseInt(args[3]), args[4])) {
      System.out.println(i);
    }
    System.out.flush();
  }

  /** Tries to create every key; the indexes of those this writer created. */
  static List<Integer> race(ObjectStorage storage, ObjectKey prefix, int count, String writer) {
    List<Integer> won = new ArrayList<>();
    byte[] body = writer.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < count; i++) {
      try {
        storage
            .put(
                prefix.resolve(Integer.toString(i)),
                Flux.just(ByteBuffer.wrap(body)),
                PutOptions.of(WriteCondition.IF_ABSENT))
            .block(Duration.ofSeconds(30));
        won.add(i);
      } catch (ConditionFailedException e) {
        // The other process created it first.
      }
    }
    return won;
  }
}
