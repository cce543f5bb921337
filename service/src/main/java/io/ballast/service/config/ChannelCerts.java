package io.ballast.service.config;

import io.ballast.config.ConfigNode;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * {@code deployment.certs}, APISIX's keys for a data plane's side of the channel to the control
 * plane: {@code cert} and {@code cert_key}, the client certificate it presents (its subject CN
 * names its gateway group), and {@code trusted_ca_cert}, the CA it checks the conf server's
 * certificate against (the JDK's CAs without it). Used for {@code https://} control plane hosts.
 */
public record ChannelCerts(
    Optional<Path> cert, Optional<Path> certKey, Optional<Path> trustedCaCert) {

  public static final ChannelCerts NONE =
      new ChannelCerts(Optional.empty(), Optional.empty(), Optional.empty());

  static ChannelCerts parse(ConfigNode certs) {
    certs.rejectUnknownKeys(Set.of("cert", "cert_key", "trusted_ca_cert"));
    Optional<Path> cert = PemPaths.optional(certs, "cert");
    Optional<Path> key = PemPaths.optional(certs, "cert_key");
    if (cert.isPresent() != key.isPresent()) {
      throw certs.error(
          cert.isPresent() ? "cert_key" : "cert",
          "is required with " + (cert.isPresent() ? "cert" : "cert_key"));
    }
    return new ChannelCerts(cert, key, PemPaths.optional(certs, "trusted_ca_cert"));
  }
}
