package io.ballast.service.config;

import io.ballast.config.ConfigNode;
import io.ballast.snapshot.ShrinkGuard;
import java.util.Optional;

/**
 * {@code fallback_cp.max_route_shrink} (a Ballast extension): how large a share of the routes one
 * export may remove before the CP holds it and a DP refuses it. Read wherever {@code fallback_cp}
 * is (the top level or under {@code deployment}); without the key, or without the block, the
 * default 50 % applies, since a CP guards its conf server whether or not it exports to storage.
 */
final class ShrinkGuardConfig {

  private static final String KEY = "max_route_shrink";

  private ShrinkGuardConfig() {}

  /** The guard of this node's file; call after {@code FallbackCpConfig.find} checked the block. */
  static ShrinkGuard parse(ConfigNode root) {
    Optional<ConfigNode> block =
        root.child("fallback_cp")
            .or(() -> root.child("deployment").flatMap(d -> d.child("fallback_cp")));
    Optional<String> text = block.flatMap(node -> node.string(KEY));
    if (text.isEmpty()) {
      return ShrinkGuard.DEFAULT;
    }
    try {
      return ShrinkGuard.parse(text.get());
    } catch (IllegalArgumentException e) {
      throw block.get().error(KEY, e.getMessage());
    }
  }
}
