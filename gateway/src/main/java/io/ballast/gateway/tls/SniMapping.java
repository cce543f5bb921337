package io.ballast.gateway.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.util.AsyncMapping;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.function.Supplier;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.Http2SslContextSpec;
import reactor.netty.tcp.SslProvider;

/**
 * Picks the certificate for each TLS handshake from the table current at that moment, so that a
 * configuration swap changes certificates without rebinding. A client without SNI gets {@code
 * fallbackSni}'s certificate; a name no ssl covers fails the handshake, as in APISIX.
 */
public final class SniMapping implements AsyncMapping<String, SslProvider> {

  private final Supplier<CertificateTable> certificates;
  private final String fallbackSni;
  private final boolean http2;

  /**
   * @param fallbackSni the name used for a client that sends none; {@code null} for no fallback
   * @param http2 whether to offer h2 through ALPN
   */
  public SniMapping(Supplier<CertificateTable> certificates, String fallbackSni, boolean http2) {
    this.certificates = certificates;
    this.fallbackSni = fallbackSni;
    this.http2 = http2;
  }

  @Override
  public Future<SslProvider> map(String serverName, Promise<SslProvider> promise) {
    String name = serverName != null ? serverName : fallbackSni;
    if (name == null) {
      return promise.setFailure(
          new SSLHandshakeException("client sent no SNI and apisix.ssl.fallback_sni is not set"));
    }
    return certificates
        .get()
        .lookup(name)
        .map(certificate -> promise.setSuccess(certificate.provider(http2)))
        .orElseGet(
            () -> promise.setFailure(new SSLHandshakeException("no ssl for SNI '" + name + "'")));
  }

  /**
   * The context Reactor Netty asks for beside the mapping. It never serves a handshake (the mapping
   * answers each one), so a client context without key material will do.
   */
  public SslContext placeholder() {
    try {
      return http2
          ? Http2SslContextSpec.forClient().sslContext()
          : Http11SslContextSpec.forClient().sslContext();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build a TLS context", e);
    }
  }
}
