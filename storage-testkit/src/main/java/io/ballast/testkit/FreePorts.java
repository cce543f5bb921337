package io.ballast.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Free TCP ports on the loopback interface, for servers that must be told their port up front. */
public final class FreePorts {

  /**
   * Ports already handed out in this JVM. The kernel may give the same ephemeral port to two binds
   * in a row once the first socket is closed, and a test that asks for an admin port and a conf
   * port must not get one port twice.
   */
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

  private static final int ATTEMPTS = 100;

  private FreePorts() {}

  /**
   * A port that was free a moment ago and that no earlier call in this JVM returned. Another
   * process may take it before the server binds it; the server then fails to start and says so in
   * its log, which the start-up wait reports.
   */
  public static int next() {
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      int port = bindAndRelease();
      if (HANDED_OUT.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException(
        "no port on 127.0.0.1 that this JVM has not handed out already, after " + ATTEMPTS);
  }

  private static int bindAndRelease() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("could not bind a free port on 127.0.0.1", e);
    }
  }
}
