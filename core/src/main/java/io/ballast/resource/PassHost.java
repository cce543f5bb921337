package io.ballast.resource;

/** APISIX's {@code upstream.pass_host}: which Host header the upstream receives. */
public enum PassHost {
  /** The client's Host header, unchanged (APISIX's default). */
  PASS,
  /** The chosen node's {@code host[:port]}. */
  NODE,
  /** The upstream's {@code upstream_host}. */
  REWRITE
}
