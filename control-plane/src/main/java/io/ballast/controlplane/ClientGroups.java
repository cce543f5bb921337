package io.ballast.controlplane;

import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/** How a data plane's client certificate names its gateway group: its subject's CN. */
final class ClientGroups {

  private ClientGroups() {}

  /** The subject CN of {@code certificate}, if it has one. */
  static Optional<String> commonName(X509Certificate certificate) {
    try {
      LdapName subject =
          new LdapName(certificate.getSubjectX500Principal().getName(X500Principal.RFC2253));
      // The most specific CN is the last RDN read, the first in the RFC 2253 text.
      for (int i = subject.size() - 1; i >= 0; i--) {
        Rdn rdn = subject.getRdn(i);
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return Optional.of(rdn.getValue().toString());
        }
      }
      return Optional.empty();
    } catch (InvalidNameException e) {
      return Optional.empty();
    }
  }
}
