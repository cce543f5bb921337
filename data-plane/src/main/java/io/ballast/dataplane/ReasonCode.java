package io.ballast.dataplane;

import java.util.Locale;

/**
 * Why a data plane is degraded or not ready: the codes of {@code data_plane.health.reasons} in
 * {@code GET /status}. Set and cleared through {@link DataPlane#report} and {@link
 * DataPlane#clear}; storage's per backend through {@link DataPlane#storageProblem} and {@link
 * DataPlane#storageRecovered}.
 */
public enum ReasonCode {
  /** The newest pointer read has expired: its CP stopped re-signing it. Serving goes on. */
  STALE,
  /** This node's clock and the CP's (its {@code Date}, a {@code signed_at}) differ too much. */
  CLOCK_SKEW,
  /** The CP's version or lineage is behind what is served; the newer one is kept. */
  CP_BEHIND,
  /** An export held by the shrink guard. */
  SHRINK,
  /** Storage's pointer names a version older than the one served; refused. */
  ROLLBACK_REFUSED,
  /** Storage's pointer names a body that does not exist; retried. */
  BODY_MISSING,
  /** Storage refused the credentials (401/403); retried slowly. */
  ACCESS_DENIED,
  /** Storage cannot be reached, hangs or answers 5xx; retried with backoff. */
  STORAGE_UNREACHABLE,
  /** A bucket, container or folder the configuration names does not exist. */
  STORAGE_MISSING_BUCKET,
  /**
   * Storage refused a request as configured for another reason (a wrong region or endpoint, say);
   * not cured by waiting, so retried slowly.
   */
  STORAGE_REJECTED,
  /** An export unsigned or signed by a key not trusted; refused. */
  SIGNATURE,
  /** A body whose size or SHA-256 differs from its manifest; refused. */
  CHECKSUM,
  /** Nothing is served and no source answers. */
  NO_SOURCE;

  /** The code as {@code /status} and the metrics name it. */
  public String id() {
    return name().toLowerCase(Locale.ROOT);
  }
}
