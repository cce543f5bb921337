package io.ballast.service.config;

import java.util.List;
import java.util.Optional;

/**
 * The TLS listener as APISIX configures it: {@code apisix.ssl.enable}, {@code apisix.ssl.listen},
 * {@code apisix.enable_http2} and {@code apisix.ssl.fallback_sni}.
 *
 * <p>Deviation from APISIX, on purpose: APISIX opens 9443 by default, Ballast opens a TLS listener
 * only when {@code apisix.ssl.listen} is set, since several nodes on one host would fight over a
 * default port.
 *
 * @param listen where to listen, empty unless configured (and when {@code apisix.ssl.enable} is
 *     false)
 * @param fallbackSni the name whose certificate a client without SNI gets; {@code null} for none
 */
public record SslConfig(List<TlsListen> listen, String fallbackSni) {

  public static final SslConfig NONE = new SslConfig(List.of(), null);

  public SslConfig {
    listen = List.copyOf(listen);
  }

  public Optional<String> fallback() {
    return Optional.ofNullable(fallbackSni);
  }

  /** One TLS address; {@code http2}: offer h2 through ALPN. */
  public record TlsListen(String ip, int port, boolean http2) {

    @Override
    public String toString() {
      return ip + ":" + port + (http2 ? " (h2)" : "");
    }
  }
}
