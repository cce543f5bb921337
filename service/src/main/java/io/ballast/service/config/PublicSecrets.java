package io.ballast.service.config;

import java.util.Map;
import java.util.Optional;

/**
 * Secret values anyone can read: APISIX's documented defaults and the demo values shipped in this
 * repository. A node must not rely on one of them where a stranger can reach it. The one list for
 * every kind of secret a node is configured with (admin keys, keyrings, …), so that a value known
 * for one purpose is known for all.
 */
public final class PublicSecrets {

  /** Each value, and where it is published (said instead of the value in errors and logs). */
  private static final Map<String, String> KNOWN =
      Map.of(
          "edd1c9f034335f136f87ad84b625c8f1", "APISIX's documented default admin key",
          "4054f7cf07e344346cd3f287985e76a2", "APISIX's documented default viewer key",
          "change-me-demo-admin-key", "the demo admin key in Ballast's conf/config.yaml and README",
          "bench-admin-key-not-secret", "the admin key of Ballast's bench/proxy.sh",
          "startup-bench-key", "the admin key of Ballast's bench/startup.py");

  private PublicSecrets() {}

  /** Where {@code value} is published, if it is; never the value itself. */
  public static Optional<String> whereKnown(String value) {
    return Optional.ofNullable(value == null ? null : KNOWN.get(value.trim()));
  }
}
