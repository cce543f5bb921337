package io.ballast.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP proxy in front of one server, for network faults and for counting the bytes a
 * client moves. Clients are pointed at {@link #endpoint()} instead of the server's.
 *
 * <p>Changing the {@link Mode} closes every connection open so far, so pooled keep-alive
 * connections meet the new mode on their next request. The target can be switched ({@link
 * #target(int)}), e.g. between two control planes.
 */
public final class FaultProxy implements AutoCloseable {

  public enum Mode {
    /** Forward both ways. */
    PASS,
    /** Accept and read, never answer: a hung server. */
    HANG,
    /** Reset every connection at once: a crashing server. */
    RESET,
    /** Answer every request with 500 and close: a failing server. */
    HTTP_500,
    /** Answer every request with S3's 503 SlowDown and close: a throttling server. */
    HTTP_503,
    /** Stop listening, so that connecting is refused; listen on the same port again on leaving. */
    REFUSE,
    /**
     * Forward both ways, but hold every chunk a client sends for the {@link #slow} latency and pass
     * answers on at no more than its bytes per second: a slow server or link.
     */
    SLOW
  }

  private static final String ERROR_BODY =
      "<Error><Code>InternalError</Code><Message>injected by FaultProxy</Message></Error>";
  private static final byte[] ERROR_500 =
      ("HTTP/1.1 500 Internal Server Error\r\n"
              + "Content-Type: application/xml\r\n"
              + "Content-Length: "
              + ERROR_BODY.length()
              + "\r\nConnection: close\r\n\r\n"
              + ERROR_BODY)
          .getBytes(StandardCharsets.US_ASCII);
  private static final String SLOW_DOWN_BODY =
      "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
  private static final byte[] ERROR_503 =
      ("HTTP/1.1 503 Slow Down\r\n"
              + "Content-Type: application/xml\r\n"
              + "Content-Length: "
              + SLOW_DOWN_BODY.length()
              + "\r\nConnection: close\r\n\r\n"
              + SLOW_DOWN_BODY)
          .getBytes(StandardCharsets.US_ASCII);

  private volatile int targetPort;
  private final int port;
  private volatile ServerSocket listener;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong toServer = new AtomicLong();
  private final AtomicLong fromServer = new AtomicLong();
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong errorAnswers = new AtomicLong();
  private final AtomicBoolean corruptNext = new AtomicBoolean();
  private final List<String> requestHeads = Collections.synchronizedList(new ArrayList<>());
  private volatile Mode mode = Mode.PASS;
  private volatile Duration slowLatency = Duration.ZERO;
  private volatile long slowBytesPerSecond = Long.MAX_VALUE;
  private volatile boolean closed;

  private FaultProxy(int targetPort, ServerSocket listener) {
    this.targetPort = targetPort;
    this.listener = listener;
    this.port = listener.getLocalPort();
  }

  /** A proxy on a free loopback port forwarding to {@code 127.0.0.1:targetPort}. */
  public static FaultProxy start(int targetPort) {
    try {
      ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      FaultProxy proxy = new FaultProxy(targetPort, listener);
      proxy.startAccepting(listener);
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException("could not start a fault proxy", e);
    }
  }

  public int port() {
    return port;
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port());
  }

  public synchronized void mode(Mode mode) {
    Mode before = this.mode;
    this.mode = mode;
    if (mode == Mode.REFUSE && before != Mode.REFUSE) {
      closeQuietly(listener);
    } else if (mode != Mode.REFUSE && before == Mode.REFUSE) {
      listenAgain();
    }
    closeOpenConnections();
  }

  /**
   * {@link Mode#HANG} for the connections already open too: they stay open, but nothing more passes
   * either way, as with a hung server process or a half-open network path. New connections are
   * accepted and never answered.
   */
  public synchronized void stall() {
    if (mode == Mode.REFUSE) {
      listenAgain();
    }
    this.mode = Mode.HANG;
  }

  public Mode mode() {
    return mode;
  }

  /**
   * {@link Mode#SLOW}: each client chunk held {@code latency}, answers at {@code bytesPerSecond}.
   */
  public void slow(Duration latency, long bytesPerSecond) {
    this.slowLatency = latency;
    this.slowBytesPerSecond = bytesPerSecond;
    mode(Mode.SLOW);
  }

  /** Forwards new connections to {@code 127.0.0.1:port} from now on; closes those open so far. */
  public void target(int port) {
    this.targetPort = port;
    closeOpenConnections();
  }

  /** Connections accepted since the start (not counting refused ones). */
  public long connections() {
    return connections.get();
  }

  /** Requests answered with an injected 500 or 503 since the start. */
  public long errorAnswers() {
    return errorAnswers.get();
  }

  /** Flips one byte in the middle of the body of the next request with a Content-Length body. */
  public void corruptNextRequestBody() {
    corruptNext.set(true);
  }

  /** Whether an armed corruption has not happened yet. */
  public boolean corruptionPending() {
    return corruptNext.get();
  }

  public long bytesToServer() {
    return toServer.get();
  }

  public long bytesFromServer() {
    return fromServer.get();
  }

  public void resetCounters() {
    toServer.set(0);
    fromServer.set(0);
    requestHeads.clear();
  }

  /**
   * The heads (request line and headers, lower-cased) of the requests forwarded since the last
   * {@link #resetCounters()}, to check what a client puts on the wire. Heads after a chunked body
   * on the same connection are not seen.
   */
  public List<String> requestHeads() {
    synchronized (requestHeads) {
      return List.copyOf(requestHeads);
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
    closeQuietly(listener);
    closeOpenConnections();
  }

  /** Binds the same port again after {@link Mode#REFUSE}; the kernel may hold it a moment. */
  private void listenAgain() {
    IOException last = null;
    for (int attempt = 0; attempt < 50 && !closed; attempt++) {
      try {
        ServerSocket again = new ServerSocket();
        again.setReuseAddress(true);
        again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        listener = again;
        startAccepting(again);
        return;
      } catch (IOException e) {
        last = e;
        sleep(Duration.ofMillis(100));
      }
    }
    throw new UncheckedIOException("could not listen on port " + port + " again", last);
  }

  private void startAccepting(ServerSocket socket) {
    daemon("fault-proxy-accept-" + port, () -> acceptLoop(socket));
  }

  private void acceptLoop(ServerSocket listener) {
    while (!closed) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      open.add(client);
      connections.incrementAndGet();
      daemon("fault-proxy-" + client.getPort(), () -> serve(client));
    }
  }

  private void serve(Socket client) {
    try {
      switch (mode) {
        case PASS, SLOW -> forward(client);
        case HANG, REFUSE -> client.getInputStream().transferTo(OutputStream.nullOutputStream());
        case RESET -> {
          client.setSoLinger(true, 0);
          client.close();
        }
        case HTTP_500 -> answer(client, ERROR_500);
        case HTTP_503 -> answer(client, ERROR_503);
      }
    } catch (IOException e) {
      // The client or the proxy closed the connection: nothing to report.
    } finally {
      open.remove(client);
      closeQuietly(client);
    }
  }

  private void answer(Socket client, byte[] answer) throws IOException {
    readHead(client.getInputStream());
    errorAnswers.incrementAndGet();
    client.getOutputStream().write(answer);
    client.getOutputStream().flush();
  }

  private void forward(Socket client) throws IOException {
    Socket server = new Socket();
    open.add(server);
    try {
      server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5_000);
      Thread up = daemon("fault-proxy-up-" + client.getPort(), () -> pumpRequests(client, server));
      pumpAnswers(server.getInputStream(), client.getOutputStream());
      // The server closed (e.g. after a "Connection: close" answer with no length): pass the end
      // on, or the client would wait for more of the answer until it times out.
      client.shutdownOutput();
      joinQuietly(up);
    } finally {
      open.remove(server);
      closeQuietly(server);
    }
  }

  /** Client to server, watching request heads so that a body byte can be flipped on demand. */
  private void pumpRequests(Socket client, Socket server) {
    try (InputStream in = client.getInputStream();
        OutputStream out = server.getOutputStream()) {
      RequestScanner scanner = new RequestScanner();
      byte[] buffer = new byte[16 * 1024];
      int n;
      while ((n = in.read(buffer)) != -1) {
        scanner.scan(buffer, n);
        holdWhileStalled();
        // Counted before they are passed on, so a client that has its answer sees them counted.
        toServer.addAndGet(n);
        if (mode == Mode.SLOW) {
          sleep(slowLatency);
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // connection closed
    } finally {
      closeQuietly(server);
    }
  }

  /** Server to client; in {@link Mode#SLOW} in pieces paced to the configured bytes per second. */
  private void pumpAnswers(InputStream in, OutputStream out) {
    byte[] buffer = new byte[16 * 1024];
    try {
      int n;
      while ((n = in.read(buffer)) != -1) {
        holdWhileStalled();
        fromServer.addAndGet(n);
        if (mode != Mode.SLOW) {
          out.write(buffer, 0, n);
          out.flush();
          continue;
        }
        long rate = slowBytesPerSecond;
        int piece = (int) Math.max(1, Math.min(n, rate / 10));
        for (int offset = 0; offset < n; offset += piece) {
          int length = Math.min(piece, n - offset);
          out.write(buffer, offset, length);
          out.flush();
          sleep(Duration.ofNanos(length * 1_000_000_000L / rate));
        }
      }
    } catch (IOException e) {
      // connection closed
    }
  }

  /** After {@link #stall()}: bytes already read wait here until the connection is closed. */
  private void holdWhileStalled() {
    while (mode == Mode.HANG && !closed) {
      sleep(Duration.ofMillis(20));
    }
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Follows requests with a Content-Length through the byte stream and flips the middle byte of one
   * body when armed. A chunked body ends the tracking for that connection (it is left intact).
   */
  private final class RequestScanner {

    private final StringBuilder head = new StringBuilder();
    private long bodyLeft;
    private long flipAt = -1;
    private boolean lost;

    void scan(byte[] buffer, int length) {
      for (int i = 0; i < length && !lost; i++) {
        if (bodyLeft > 0 && flipAt < 0) {
          int skip = (int) Math.min(bodyLeft, length - i);
          bodyLeft -= skip;
          i += skip - 1;
          continue;
        }
        if (bodyLeft > 0) {
          if (bodyLeft == flipAt) {
            buffer[i] ^= 0x01;
            flipAt = -1;
          }
          bodyLeft--;
          continue;
        }
        head.append((char) (buffer[i] & 0xff));
        if (head.length() >= 4 && head.lastIndexOf("\r\n\r\n") == head.length() - 4) {
          startBody(head.toString().toLowerCase(Locale.ROOT));
          head.setLength(0);
        }
      }
    }

    private void startBody(String requestHead) {
      requestHeads.add(requestHead);
      if (requestHead.contains("\r\ntransfer-encoding:")) {
        lost = true;
        return;
      }
      int at = requestHead.indexOf("\r\ncontent-length:");
      if (at < 0) {
        return;
      }
      int end = requestHead.indexOf("\r\n", at + 2);
      bodyLeft = Long.parseLong(requestHead.substring(at + 17, end).trim());
      if (bodyLeft > 0 && corruptNext.compareAndSet(true, false)) {
        flipAt = (bodyLeft + 1) / 2;
      }
    }
  }

  private static void readHead(InputStream in) throws IOException {
    int matched = 0;
    int b;
    while (matched < 4 && (b = in.read()) != -1) {
      matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
    }
  }

  private void closeOpenConnections() {
    for (Socket socket : open) {
      try {
        socket.setSoLinger(true, 0);
      } catch (SocketException e) {
        // already closed
      }
      closeQuietly(socket);
    }
  }

  private static Thread daemon(String name, Runnable task) {
    Thread thread = new Thread(task, name);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  private static void joinQuietly(Thread thread) {
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // closing on a best-effort basis
    }
  }
}
