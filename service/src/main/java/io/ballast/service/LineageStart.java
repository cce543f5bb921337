package io.ballast.service;

import io.ballast.controlplane.FetchedExports;
import io.ballast.controlplane.LineageCheck;
import io.ballast.controlplane.LineageChoice;
import io.ballast.controlplane.NewestOfBackends;
import io.ballast.controlplane.StorageExports;
import io.ballast.controlplane.store.ConfigStore;
import io.ballast.snapshot.ExportFetcher;
import io.ballast.snapshot.ExportLayout;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.snapshot.SignatureVerifier;
import io.ballast.snapshot.SnapshotKind;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Wires a control plane's {@link LineageCheck} to its storage: the pointer of its gateway group in
 * {@code resource_bucket} of every storage block (the newest across them), checked with the keys
 * the CP trusts (its own first).
 */
final class LineageStart {

  /** How long the check may hold up the start before it goes on in the background. */
  static final Duration START_DEADLINE = Duration.ofSeconds(10);

  /** Retries while storage cannot be read: from 1 s, doubling, up to a minute, with jitter. */
  static final Duration FIRST_RETRY = Duration.ofSeconds(1);

  static final Duration MAX_RETRY = Duration.ofMinutes(1);

  private LineageStart() {}

  /**
   * Checks the store against storage now (importing what it must before this returns), or goes on
   * checking in the background when storage cannot be read.
   *
   * @param trustedKeys the CP's own signing key and any {@code snapshot_signing.trusted_keys}
   * @param afterImport runs after an import (re-sealing what was imported)
   */
  static LineageCheck start(
      ConfigStore store,
      List<NodeStorage.Backend> backends,
      FallbackCpConfig fallback,
      List<PublicKey> trustedKeys,
      LineageChoice choice,
      Path dataDir,
      Runnable afterImport,
      Clock clock) {
    List<StorageExports> exports = new ArrayList<>();
    for (NodeStorage.Backend backend : backends) {
      ExportFetcher fetcher =
          new ExportFetcher(
              backend.bucket(SnapshotKind.RESOURCES),
              backend.bucket(SnapshotKind.INSTANCE),
              new ExportLayout(fallback.prefix(), fallback.gatewayGroup()),
              SignatureVerifier.trusting(trustedKeys));
      exports.add(
          new FetchedExports(
              fetcher,
              dataDir.resolve("lineage-check").resolve(Integer.toString(exports.size())),
              START_DEADLINE));
    }
    LineageCheck check =
        new LineageCheck(
            store,
            new NewestOfBackends(exports),
            fallback.gatewayGroup(),
            choice,
            afterImport,
            FIRST_RETRY,
            MAX_RETRY,
            clock);
    check.start();
    return check;
  }
}
