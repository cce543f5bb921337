package io.ballast.gateway.tls;

import io.ballast.resource.Fields;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;
import javax.security.auth.x500.X500Principal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS for the channel between the control plane's conf server and its data planes, from PEM files
 * that are re-read when they change, without a restart.
 *
 * <p>One {@link SslContext} serves the whole life of the process: its key manager and trust manager
 * ask for the material current at each handshake, so a rotated certificate, key or CA applies to
 * the next connection and a server never rebinds. A file that cannot be read or does not fit (a key
 * that is not the certificate's, say) keeps the last good material and logs one WARN naming the key
 * and the file; at start the same problem is an error.
 */
public final class ChannelTls implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ChannelTls.class);

  /** A PEM file and the configuration key that names it, for messages. */
  public record PemFile(String key, Path path) {

    @Override
    public String toString() {
      return key + ": " + path;
    }
  }

  private final Optional<PemFile> cert;
  private final Optional<PemFile> certKey;
  private final Optional<PemFile> ca;
  private final AtomicReference<Material> current = new AtomicReference<>();
  private final SslContext context;
  private volatile List<byte[]> failedDigests = List.of();
  private volatile String lastWarning;
  private ScheduledExecutorService watcher;

  /** The key pair and trust in force, with the digests of the files they came from. */
  private record Material(
      long generation, X509KeyManager keys, X509TrustManager trust, List<byte[]> digests) {}

  private ChannelTls(
      Optional<PemFile> cert, Optional<PemFile> certKey, Optional<PemFile> ca, boolean server) {
    this.cert = cert;
    this.certKey = certKey;
    this.ca = ca;
    current.set(load(0, digests()));
    this.context = server ? buildServer() : buildClient();
  }

  /**
   * The conf server's TLS: its certificate and key; with {@code clientCa}, a client must present a
   * certificate that CA signed or the handshake fails.
   *
   * @throws IllegalArgumentException naming the key and file that cannot be used
   */
  public static ChannelTls server(PemFile cert, PemFile key, Optional<PemFile> clientCa) {
    return new ChannelTls(Optional.of(cert), Optional.of(key), clientCa, true);
  }

  /**
   * A data plane's TLS towards the conf server: its certificate and key when given, and the CAs it
   * trusts for the server's certificate (the JDK's own when {@code trustedCa} is empty). Host names
   * are verified by the HTTP client (Reactor Netty does by default).
   *
   * @throws IllegalArgumentException naming the key and file that cannot be used
   */
  public static ChannelTls client(
      Optional<PemFile> cert, Optional<PemFile> key, Optional<PemFile> trustedCa) {
    if (cert.isPresent() != key.isPresent()) {
      throw new IllegalArgumentException("a client certificate needs both cert and cert_key");
    }
    return new ChannelTls(cert, key, trustedCa, false);
  }

  /** The context for every connection of the channel. */
  public SslContext context() {
    return context;
  }

  /** The gateway group a data plane's client certificate names: its subject's CN. */
  public static Optional<String> gatewayGroupOf(X509Certificate certificate) {
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

  /** The certificate this side presents now, if it presents one. */
  public Optional<X509Certificate> ownCertificate() {
    Material material = current.get();
    if (material.keys() == null) {
      return Optional.empty();
    }
    X509Certificate[] chain = material.keys().getCertificateChain(alias(material.generation()));
    return chain == null || chain.length == 0 ? Optional.empty() : Optional.of(chain[0]);
  }

  /**
   * Whether a client's certificate chain, verified at its handshake, still chains to the CA now in
   * force: a connection kept alive (or a resumed TLS session) outlives a rotation of the CA, and a
   * rotation is how a data plane's access is withdrawn.
   */
  public boolean trustsClient(X509Certificate[] chain) {
    try {
      current.get().trust().checkClientTrusted(chain, chain[0].getPublicKey().getAlgorithm());
      return true;
    } catch (CertificateException | IllegalArgumentException e) {
      return false;
    }
  }

  /** Polls the files every {@code interval} on a daemon thread until {@link #close()}. */
  public void watch(Duration interval) {
    watcher =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "ballast-channel-tls-watch");
              thread.setDaemon(true);
              return thread;
            });
    watcher.scheduleWithFixedDelay(
        this::refresh, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Re-reads the files if any changed. A change that does not load keeps the current material and
   * logs one WARN, until the files change again.
   *
   * @return whether new material is now in force
   */
  public boolean refresh() {
    List<byte[]> digests;
    try {
      digests = digests();
    } catch (IllegalArgumentException e) {
      warnOnce(e);
      return false;
    }
    Material old = current.get();
    if (same(digests, old.digests()) || same(digests, failedDigests)) {
      return false;
    }
    try {
      current.set(load(old.generation() + 1, digests));
      failedDigests = List.of();
      lastWarning = null;
      forgetSessions();
      log.info("channel TLS: re-read {}", describeFiles());
      return true;
    } catch (IllegalArgumentException e) {
      failedDigests = digests;
      warnOnce(e);
      return false;
    }
  }

  /**
   * A resumed TLS session keeps the certificates of the handshake that made it: forgetting the
   * sessions cached here makes the next connection prove the new material.
   */
  private void forgetSessions() {
    SSLSessionContext sessions = context.sessionContext();
    for (Enumeration<byte[]> ids = sessions.getIds(); ids.hasMoreElements(); ) {
      SSLSession session = sessions.getSession(ids.nextElement());
      if (session != null) {
        session.invalidate();
      }
    }
  }

  /** One WARN per distinct problem, not one per poll. */
  private void warnOnce(IllegalArgumentException e) {
    if (!e.getMessage().equals(lastWarning)) {
      lastWarning = e.getMessage();
      log.warn("channel TLS: keeping the current certificates: {}", e.getMessage());
    }
  }

  private String describeFiles() {
    List<String> names = new ArrayList<>();
    cert.ifPresent(file -> names.add(file.toString()));
    certKey.ifPresent(file -> names.add(file.toString()));
    ca.ifPresent(file -> names.add(file.toString()));
    return String.join(", ", names);
  }

  private List<byte[]> digests() {
    List<byte[]> digests = new ArrayList<>();
    for (Optional<PemFile> file : List.of(cert, certKey, ca)) {
      if (file.isPresent()) {
        digests.add(sha256(read(file.get())));
      }
    }
    return digests;
  }

  private Material load(long generation, List<byte[]> digests) {
    X509KeyManager keys = null;
    if (cert.isPresent()) {
      keys = keyManager(generation, cert.get(), certKey.orElseThrow());
    }
    X509TrustManager trust = trustManager(ca);
    return new Material(generation, keys, trust, digests);
  }

  /**
   * The pair is stored under an alias naming its generation: the TLS engine asks for the alias,
   * then the chain and the key by that alias, and a swap in between answers nothing for the old
   * alias (that one handshake fails) rather than a chain and a key that do not belong together.
   */
  private static X509KeyManager keyManager(long generation, PemFile certFile, PemFile keyFile) {
    X509Certificate[] chain =
        Pem.certificates(text(certFile), new Fields(certFile.key()), certFile.path().toString());
    PrivateKey key =
        Pem.privateKey(text(keyFile), new Fields(keyFile.key()), keyFile.path().toString());
    if (!Pem.matches(key, chain[0])) {
      throw new IllegalArgumentException(
          keyFile + ": does not match the certificate in " + certFile);
    }
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry(alias(generation), key, new char[0], chain);
      KeyManagerFactory factory =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, new char[0]);
      for (KeyManager manager : factory.getKeyManagers()) {
        if (manager instanceof X509KeyManager x509) {
          return x509;
        }
      }
      throw new IllegalStateException("no X.509 key manager in this JVM");
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          keyFile + ": cannot be used (" + e.getClass().getSimpleName() + ")");
    }
  }

  private static String alias(long generation) {
    return "channel-" + generation;
  }

  /** The CAs of {@code caFile}, or the JDK's default CAs without one. */
  private static X509TrustManager trustManager(Optional<PemFile> caFile) {
    try {
      KeyStore store = null;
      if (caFile.isPresent()) {
        PemFile file = caFile.get();
        X509Certificate[] cas =
            Pem.certificates(text(file), new Fields(file.key()), file.path().toString());
        store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (int i = 0; i < cas.length; i++) {
          store.setCertificateEntry("ca-" + i, cas[i]);
        }
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      return Arrays.stream(factory.getTrustManagers())
          .filter(X509TrustManager.class::isInstance)
          .map(X509TrustManager.class::cast)
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("no X.509 trust manager in this JVM"));
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          caFile.map(PemFile::toString).orElse("the JDK's CAs")
              + ": cannot be used ("
              + e.getClass().getSimpleName()
              + ")");
    }
  }

  // The JDK's engine asks the key and trust managers at every handshake; OpenSSL's may cache
  // what they answered, which would defeat the re-reading.
  private SslContext buildServer() {
    try {
      SslContextBuilder builder =
          SslContextBuilder.forServer(new CurrentKeys()).sslProvider(SslProvider.JDK);
      if (ca.isPresent()) {
        builder.trustManager(new CurrentTrust()).clientAuth(ClientAuth.REQUIRE);
      }
      return builder.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the conf server's TLS context", e);
    }
  }

  private SslContext buildClient() {
    try {
      SslContextBuilder builder =
          SslContextBuilder.forClient()
              .sslProvider(SslProvider.JDK)
              .trustManager(new CurrentTrust());
      if (cert.isPresent()) {
        builder.keyManager(new CurrentKeys());
      }
      return builder.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build the control plane client's TLS context", e);
    }
  }

  private static String text(PemFile file) {
    return new String(read(file), StandardCharsets.US_ASCII);
  }

  private static byte[] read(PemFile file) {
    try {
      return Files.readAllBytes(file.path());
    } catch (IOException e) {
      throw new IllegalArgumentException(
          file + ": cannot be read (" + e.getClass().getSimpleName() + ")");
    }
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean same(List<byte[]> a, List<byte[]> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!MessageDigest.isEqual(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    if (watcher != null) {
      watcher.shutdownNow();
    }
  }

  /** The key pair current at each handshake. */
  private final class CurrentKeys extends X509ExtendedKeyManager {

    private X509KeyManager keys() {
      return current.get().keys();
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return keys().getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return keys().chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      X509KeyManager keys = keys();
      return keys instanceof X509ExtendedKeyManager extended
          ? extended.chooseEngineClientAlias(keyType, issuers, engine)
          : keys.chooseClientAlias(keyType, issuers, null);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return keys().getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return keys().chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      X509KeyManager keys = keys();
      return keys instanceof X509ExtendedKeyManager extended
          ? extended.chooseEngineServerAlias(keyType, issuers, engine)
          : keys.chooseServerAlias(keyType, issuers, null);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return keys().getCertificateChain(alias);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return keys().getPrivateKey(alias);
    }
  }

  /**
   * The CAs current at each handshake. The engine variants reach the JDK's trust manager, which
   * checks the host name when the engine asks for it (Reactor Netty's client does).
   */
  private final class CurrentTrust extends X509ExtendedTrustManager {

    private X509ExtendedTrustManager trust() {
      return (X509ExtendedTrustManager) current.get().trust();
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      trust().checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      trust().checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      trust().checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      trust().checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      trust().checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      trust().checkServerTrusted(chain, authType, engine);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return trust().getAcceptedIssuers();
    }
  }
}
