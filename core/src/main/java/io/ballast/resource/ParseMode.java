package io.ballast.resource;

/**
 * What {@link Resource#parse} does with a field APISIX's schema does not allow, or one APISIX
 * allows but Ballast cannot honour without serving something else than it says (a consumer's {@code
 * group_id}, an ssl's {@code client}, …).
 *
 * <p>The doors, where a user writes configuration, are strict; data an earlier Ballast already
 * accepted is read tolerantly, so that a newer version never stops a control plane from starting or
 * a data plane from following because of what an older one stored.
 */
public enum ParseMode {
  /** The Admin API and the standalone file: refused, naming the field. */
  STRICT,
  /**
   * The store's log and checkpoint, snapshots (CP stream, storage, the DP cache): kept as written,
   * ignored as before, and listed in {@link Resource#ignoredFields()} so the reader can warn once.
   */
  TOLERANT
}
