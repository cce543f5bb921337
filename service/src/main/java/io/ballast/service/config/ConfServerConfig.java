package io.ballast.service.config;

import io.ballast.config.ConfigNode;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * {@code deployment.role_control_plane.conf_server}, APISIX's keys: {@code listen}, and for TLS
 * {@code cert} with {@code cert_key}, and {@code client_ca_cert} for client certificates.
 *
 * <p>Deviations from APISIX, on purpose: the default listen is {@code 127.0.0.1:9280}, not {@code
 * 0.0.0.0:9280}, since the conf server hands out every route and consumer secret; and {@code
 * cert}/{@code cert_key} are not required, so that a CP and its DPs on one host work out of the box
 * (a plain conf server on another address logs a WARN at start).
 *
 * @param cert the server's certificate chain, when TLS is on
 * @param certKey its private key
 * @param clientCaCert the CA a data plane's client certificate must chain to; without it no client
 *     certificate is asked for
 */
public record ConfServerConfig(
    Listen listen, Optional<Path> cert, Optional<Path> certKey, Optional<Path> clientCaCert) {

  public static final Listen DEFAULT_LISTEN = new Listen("127.0.0.1", 9280);

  static ConfServerConfig parse(ConfigNode confServer) {
    confServer.rejectUnknownKeys(Set.of("listen", "cert", "cert_key", "client_ca_cert"));
    Listen listen = NodeConfig.listenText(confServer, "listen", DEFAULT_LISTEN);
    Optional<Path> cert = PemPaths.optional(confServer, "cert");
    Optional<Path> key = PemPaths.optional(confServer, "cert_key");
    if (cert.isPresent() != key.isPresent()) {
      throw confServer.error(
          cert.isPresent() ? "cert_key" : "cert",
          "is required with " + (cert.isPresent() ? "cert" : "cert_key"));
    }
    Optional<Path> clientCa = PemPaths.optional(confServer, "client_ca_cert");
    if (clientCa.isPresent() && cert.isEmpty()) {
      throw confServer.error(
          "client_ca_cert", "needs cert and cert_key: client certificates are asked for over TLS");
    }
    return new ConfServerConfig(listen, cert, key, clientCa);
  }

  public boolean tls() {
    return cert.isPresent();
  }

  /** Whether only this host can reach the conf server. */
  public boolean loopbackOnly() {
    return listen.isLoopback();
  }
}
