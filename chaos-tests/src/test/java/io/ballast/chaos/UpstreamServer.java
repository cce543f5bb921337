package io.ballast.chaos;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The upstream behind the gateway: answers like httpbin's {@code GET /ip}, the endpoint API7's
 * data-plane resilience guide proxies to. {@code /ip2} and {@code /r<n>} answer the same, so that
 * more routes can point at this upstream without a path rewrite. Other paths are 404.
 */
public final class UpstreamServer implements AutoCloseable {

  static final String ORIGIN_BODY = "{\"origin\": \"127.0.0.1\"}";
  private static final Pattern PATHS = Pattern.compile("/ip2?|/r[0-9]+");

  private final HttpServer server;
  private final ExecutorService executor;
  private final AtomicLong requests = new AtomicLong();

  private UpstreamServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  public static UpstreamServer start() {
    try {
      HttpServer server =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      ExecutorService executor = Executors.newFixedThreadPool(4);
      UpstreamServer upstream = new UpstreamServer(server, executor);
      server.createContext("/", upstream::handle);
      server.setExecutor(executor);
      server.start();
      return upstream;
    } catch (IOException e) {
      throw new UncheckedIOException("could not start the upstream server on 127.0.0.1", e);
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** The upstream node as the Admin API names it: {@code 127.0.0.1:<port>}. */
  public String hostPort() {
    return "127.0.0.1:" + port();
  }

  public long requestCount() {
    return requests.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      requests.incrementAndGet();
      String path = exchange.getRequestURI().getPath();
      if (!"GET".equals(exchange.getRequestMethod()) || !PATHS.matcher(path).matches()) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      byte[] body = ORIGIN_BODY.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
