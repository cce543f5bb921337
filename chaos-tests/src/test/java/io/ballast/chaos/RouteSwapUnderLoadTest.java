package io.ballast.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.ballast.testkit.FreePorts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * GitHub issue 4: a data plane in APISIX standalone file mode swaps a configuration of 10,000
 * routes, again and again, while clients keep sending requests, and fails none of them.
 *
 * <p>Configurations A and B have the same route ids; A sends every route to upstream "one", B to
 * upstream "two", and a tenth of the routes change their uri, so each swap replaces the whole route
 * table. Each upstream names itself in its answer, which shows when traffic follows a swap and that
 * no request that starts after a version is served still reaches the old upstream.
 */
class RouteSwapUnderLoadTest {

  private static final int ROUTES = 10_000;
  private static final int SWAPS = 6;
  private static final int CLIENTS = 16;
  private static final int BODY_BYTES = 8 * 1024;

  /** A slow body arrives in chunks this far apart, so that swaps happen during its transfer. */
  private static final Duration SLOW_CHUNK_PAUSE = Duration.ofMillis(10);

  private static final int SLOW_CHUNKS = 8;
  private static final long MIN_REQUESTS = 2_000;
  private static final int KEPT_FAILURES = 20;

  /**
   * Answers from the new upstream, to requests started after /status showed the swap, that count as
   * traffic having followed it.
   */
  private static final long HITS_PER_SWAP = CLIENTS;

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration SWAP_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration POLL = Duration.ofMillis(20);

  @TempDir Path tmp;

  private MarkedUpstream one;
  private MarkedUpstream two;
  private BallastNode node;
  private Load load;

  @AfterEach
  void cleanUp() {
    if (load != null) {
      load.stop();
    }
    if (node != null) {
      node.close();
    }
    if (one != null) {
      one.close();
    }
    if (two != null) {
      two.close();
    }
  }

  @Test
  void swappingTenThousandRoutesUnderLoadFailsNoRequest() throws IOException {
    one = MarkedUpstream.start("one");
    two = MarkedUpstream.start("two");
    Path conf = Files.createDirectories(tmp.resolve("conf"));
    Path apisixYaml = conf.resolve("apisix.yaml");
    List<String> configs = List.of(standaloneFile(one, two, false), standaloneFile(one, two, true));
    List<String> markers = List.of(one.marker(), two.marker());
    writeAtomically(apisixYaml, configs.get(0));

    int proxyPort = FreePorts.next();
    int statusPort = FreePorts.next();
    Path nodeDir = tmp.resolve("dp");
    node =
        BallastNode.of(
            "dp-file",
            nodeDir,
            statusPort,
            Configs.fileDataPlane(nodeDir, apisixYaml, proxyPort, statusPort));
    node.start().awaitReady(START_TIMEOUT);
    assertThat(node.status().at("/config/counts/routes").asInt())
        .as("routes served from %s", apisixYaml)
        .isEqualTo(ROUTES);
    long version = servedVersion();

    load = Load.start("http://127.0.0.1:" + proxyPort, CLIENTS);
    load.expect(markers.get(0));
    awaitHits(load.phase(), "traffic to reach upstream one before the first swap");

    List<Long> swapMillis = new ArrayList<>();
    for (int swap = 1; swap <= SWAPS; swap++) {
      int next = swap % 2;
      load.expect(null);
      long written = System.nanoTime();
      writeAtomically(apisixYaml, configs.get(next));
      long previous = version;
      version =
          Await.until(
              "swap " + swap + ": /status to serve a version above " + previous,
              SWAP_TIMEOUT,
              POLL,
              () -> Optional.of(servedVersion()).filter(v -> v > previous),
              this::diagnostics);
      swapMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - written));
      load.expect(markers.get(next));
      awaitHits(load.phase(), "swap " + swap + ": traffic to reach upstream " + markers.get(next));
    }
    load.stop();

    List<Long> sorted = swapMillis.stream().sorted().toList();
    System.out.printf(
        "[route-swap] requests=%d (with a body %d, slow %d), failed=%d, stale=%d, swaps=%d,"
            + " swap ms min/median/max=%d/%d/%d (all %s), routes=%d, file bytes=%d%n",
        load.requests(),
        load.withBody(),
        load.slowBodies(),
        load.failures(),
        load.stale(),
        SWAPS,
        sorted.get(0),
        sorted.get(sorted.size() / 2),
        sorted.get(sorted.size() - 1),
        swapMillis,
        ROUTES,
        Files.size(apisixYaml));
    assertThat(load.failures())
        .as("failed requests (non-200 or no answer); first: %s\n%s", load.firstFailures(), log())
        .isZero();
    assertThat(load.stale())
        .as(
            "requests started after a version was served but answered by the old upstream;"
                + " first: %s\n%s",
            load.firstFailures(), log())
        .isZero();
    assertThat(load.requests()).as("requests sent").isGreaterThan(MIN_REQUESTS);
    assertThat(load.withBody()).as("requests with a body").isPositive();
    assertThat(load.slowBodies()).as("requests with a slow, chunked body").isPositive();
  }

  private long servedVersion() {
    JsonNode status = node.status();
    String fileError = status.path("standalone_file").path("last_error").asString("");
    if (!fileError.isEmpty()) {
      throw new AssertionError("the node does not serve the file: " + fileError);
    }
    return status.path("config").path("version").asLong(-1);
  }

  private void awaitHits(Phase phase, String what) {
    Await.until(
        what,
        SWAP_TIMEOUT,
        POLL,
        () -> Optional.of(phase.hits.get()).filter(hits -> hits >= HITS_PER_SWAP),
        this::diagnostics);
  }

  private String diagnostics() {
    return load + "\n" + log();
  }

  /** The log tail, then the node's own lines from further back, which the access log hides. */
  private String log() {
    List<String> own =
        node.logTail(5_000).stream().filter(line -> !line.contains("ballast.access")).toList();
    return node.describeLog(10)
        + "\n--- the last lines other than the access log ---\n"
        + String.join("\n", own.subList(Math.max(0, own.size() - 30), own.size()));
  }

  /**
   * A then B: the same 10,000 route ids, to upstream one (A) or two (B). By {@code i % 10}: exact
   * uris (0–4), a prefix (5), a {@code :param} segment (6), hosts and methods (7), POST/PUT only
   * (8), and a uri that differs between A and B (9). A third of the routes carry proxy-rewrite,
   * every seventh request-id, every fifth has its upstream inline.
   */
  static String standaloneFile(MarkedUpstream one, MarkedUpstream two, boolean b) {
    MarkedUpstream target = b ? two : one;
    StringBuilder yaml = new StringBuilder(ROUTES * 200);
    yaml.append("upstreams:\n");
    for (MarkedUpstream upstream : List.of(one, two)) {
      yaml.append("  - id: up-")
          .append(upstream.marker())
          .append("\n    type: roundrobin\n    nodes:\n      \"")
          .append(upstream.hostPort())
          .append("\": 1\n");
    }
    yaml.append("routes:\n");
    for (int i = 0; i < ROUTES; i++) {
      yaml.append("  - id: r").append(i).append('\n');
      switch (i % 10) {
        case 5 -> yaml.append("    uri: /p").append(i).append("/*\n");
        case 6 -> yaml.append("    uri: /u").append(i).append("/:name\n");
        case 7 ->
            yaml.append("    uri: /h")
                .append(i)
                .append("\n    hosts: [api")
                .append(i)
                .append(".example.com, 127.0.0.1]\n    methods: [GET, POST]\n");
        case 8 -> yaml.append("    uri: /b").append(i).append("\n    methods: [POST, PUT]\n");
        case 9 -> yaml.append("    uri: /").append(b ? 'z' : 'a').append(i).append('\n');
        default -> yaml.append("    uri: /r").append(i).append('\n');
      }
      boolean rewrite = i % 3 == 0;
      boolean requestId = i % 7 == 0;
      if (rewrite || requestId) {
        yaml.append("    plugins:\n");
        if (rewrite) {
          yaml.append("      proxy-rewrite:\n        headers:\n          set:\n")
              .append("            X-Route: r")
              .append(i)
              .append('\n');
        }
        if (requestId) {
          yaml.append("      request-id: {}\n");
        }
      }
      if (i % 5 == 0) {
        yaml.append("    upstream:\n      type: roundrobin\n      nodes:\n        \"")
            .append(target.hostPort())
            .append("\": 1\n");
      } else {
        yaml.append("    upstream_id: up-").append(target.marker()).append('\n');
      }
    }
    return yaml.append("#END\n").toString();
  }

  /** Temp file in the same folder, then a rename: the node never reads a half-written file. */
  private static void writeAtomically(Path file, String content) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temp, content, StandardCharsets.UTF_8);
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** What a request sends after its head. */
  enum Body {
    NONE,
    /** {@link #BODY_BYTES} at once, with a Content-Length. */
    FIXED,
    /**
     * {@link #BODY_BYTES} chunked, in {@link #SLOW_CHUNKS} pieces {@link #SLOW_CHUNK_PAUSE} apart.
     */
    SLOW
  }

  /** One request the load sends: to a route present, with this path and method, in A and B. */
  record Target(String method, String path, Body body) {

    Target(String path) {
      this("GET", path, Body.NONE);
    }

    /** Every route whose uri A and B share, each with a path its uri matches. */
    static List<Target> all() {
      List<Target> targets = new ArrayList<>();
      for (int i = 0; i < ROUTES; i++) {
        switch (i % 10) {
          case 5 -> targets.add(new Target("/p" + i + "/x/y?q=" + i));
          case 6 -> targets.add(new Target("/u" + i + "/alice"));
          case 7 ->
              targets.add(
                  i % 20 == 7 ? new Target("POST", "/h" + i, Body.FIXED) : new Target("/h" + i));
          case 8 ->
              targets.add(
                  i % 20 == 8
                      ? new Target("PUT", "/b" + i, Body.SLOW)
                      : new Target("POST", "/b" + i, Body.FIXED));
          case 9 -> {
            // its uri differs between A and B: a 404 on one side is expected, not sent
          }
          default -> targets.add(new Target("/r" + i));
        }
      }
      return targets;
    }
  }

  /** What the served version routes to: responses count as hits or as stale against it. */
  static final class Phase {
    final String marker;
    final AtomicLong hits = new AtomicLong();

    Phase(String marker) {
      this.marker = marker;
    }
  }

  /**
   * {@code CLIENTS} threads, each sending one request after another over a shared keep-alive
   * client, round the targets, until stopped. Every answer is checked: status 200, an upstream's
   * marker, and for a request with a body the number of bytes the upstream received.
   */
  static final class Load {

    private final String base;
    private final List<Target> targets = Target.all();
    private final byte[] body = body();
    private final HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    private final ExecutorService threads;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final AtomicLong next = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong withBody = new AtomicLong();
    private final AtomicLong slowBodies = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong stale = new AtomicLong();
    private final Queue<String> firstFailures = new ConcurrentLinkedQueue<>();
    private final AtomicReference<Phase> phase = new AtomicReference<>();

    private Load(String base, int clients) {
      this.base = base;
      this.threads = Executors.newFixedThreadPool(clients);
    }

    static Load start(String base, int clients) {
      Load load = new Load(base, clients);
      for (int c = 0; c < clients; c++) {
        load.threads.execute(load::run);
      }
      return load;
    }

    /** From now on, requests must reach the upstream {@code marker}; null while a swap is due. */
    void expect(String marker) {
      phase.set(marker == null ? null : new Phase(marker));
    }

    Phase phase() {
      return phase.get();
    }

    private void run() {
      while (!stopped.get()) {
        Target target = targets.get((int) (next.getAndIncrement() % targets.size()));
        Phase before = phase.get();
        String problem;
        String marker = null;
        try {
          HttpResponse<String> response =
              client.send(request(target), HttpResponse.BodyHandlers.ofString());
          String[] answer = response.body().split(" ");
          marker = answer[0];
          problem = check(target, response, answer);
        } catch (IOException | RuntimeException e) {
          // Counted, not thrown: an exception would end this client without a trace.
          problem = e.toString();
        } catch (InterruptedException e) {
          return;
        }
        requests.incrementAndGet();
        if (problem != null) {
          failures.incrementAndGet();
          keep(target, problem);
        } else if (before != null && before == phase.get()) {
          if (before.marker.equals(marker)) {
            before.hits.incrementAndGet();
          } else {
            stale.incrementAndGet();
            keep(target, "answered by upstream " + marker + ", expected " + before.marker);
          }
        }
      }
    }

    private HttpRequest request(Target target) {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(URI.create(base + target.path())).timeout(REQUEST_TIMEOUT);
      switch (target.body()) {
        case NONE -> {
          return request.GET().build();
        }
        case FIXED -> {
          withBody.incrementAndGet();
          return request
              .header("Content-Type", "application/octet-stream")
              .method(target.method(), HttpRequest.BodyPublishers.ofByteArray(body))
              .build();
        }
        default -> {
          withBody.incrementAndGet();
          slowBodies.incrementAndGet();
          // No length known up front: the client sends it chunked, as the stream gives it.
          return request
              .header("Content-Type", "application/octet-stream")
              .method(target.method(), HttpRequest.BodyPublishers.ofInputStream(this::slowBody))
              .build();
        }
      }
    }

    /** Why {@code response} is wrong, or null. */
    private String check(Target target, HttpResponse<String> response, String[] answer) {
      if (response.statusCode() != 200) {
        return "status " + response.statusCode() + ": " + response.body();
      }
      if (answer.length != 3 || !answer[1].equals(target.method())) {
        return "unexpected body: " + response.body();
      }
      long expectedBytes = target.body() == Body.NONE ? 0 : body.length;
      if (Long.parseLong(answer[2]) != expectedBytes) {
        return "the upstream received " + answer[2] + " body bytes of " + expectedBytes;
      }
      return null;
    }

    private void keep(Target target, String problem) {
      if (firstFailures.size() < KEPT_FAILURES) {
        firstFailures.add(
            Instant.now() + " " + target.method() + " " + target.path() + ": " + problem);
      }
    }

    /** Stops the clients and waits for their last requests. */
    void stop() {
      stopped.set(true);
      threads.shutdown();
      try {
        if (!threads.awaitTermination(REQUEST_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS)) {
          threads.shutdownNow();
        }
      } catch (InterruptedException e) {
        threads.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }

    long requests() {
      return requests.get();
    }

    long withBody() {
      return withBody.get();
    }

    long slowBodies() {
      return slowBodies.get();
    }

    long failures() {
      return failures.get();
    }

    long stale() {
      return stale.get();
    }

    List<String> firstFailures() {
      return List.copyOf(firstFailures);
    }

    private static byte[] body() {
      byte[] body = new byte[BODY_BYTES];
      Arrays.fill(body, (byte) 'x');
      return body;
    }

    /** {@link #body} in {@link #SLOW_CHUNKS} reads, each after a pause. */
    private InputStream slowBody() {
      int chunk = body.length / SLOW_CHUNKS;
      return new InputStream() {
        private int sent;

        @Override
        public int read() {
          byte[] one = new byte[1];
          return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] into, int offset, int length) {
          if (sent == body.length) {
            return -1;
          }
          Await.sleep(SLOW_CHUNK_PAUSE);
          int n = Math.min(Math.min(length, chunk), body.length - sent);
          System.arraycopy(body, sent, into, offset, n);
          sent += n;
          return n;
        }
      };
    }

    @Override
    public String toString() {
      Phase current = phase.get();
      return "load: "
          + requests()
          + " requests, "
          + failures()
          + " failed, "
          + stale()
          + " stale, expecting "
          + (current == null ? "a swap" : current.marker + " (" + current.hits + " hits)")
          + "; first failures "
          + firstFailures();
    }
  }

  /**
   * An upstream that answers every request with {@code <marker> <method> <body bytes received>}, so
   * that a response tells which configuration routed it and whether the body arrived whole.
   */
  static final class MarkedUpstream implements AutoCloseable {

    private final String marker;
    private final HttpServer server;
    private final ExecutorService executor;

    private MarkedUpstream(String marker, HttpServer server, ExecutorService executor) {
      this.marker = marker;
      this.server = server;
      this.executor = executor;
    }

    static MarkedUpstream start(String marker) {
      try {
        HttpServer server =
            HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService executor = Executors.newFixedThreadPool(8);
        MarkedUpstream upstream = new MarkedUpstream(marker, server, executor);
        server.createContext("/", upstream::handle);
        server.setExecutor(executor);
        server.start();
        return upstream;
      } catch (IOException e) {
        throw new UncheckedIOException("could not start upstream " + marker + " on 127.0.0.1", e);
      }
    }

    String marker() {
      return marker;
    }

    String hostPort() {
      return "127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
      try (exchange) {
        long received;
        try (InputStream in = exchange.getRequestBody()) {
          received = in.transferTo(OutputStream.nullOutputStream());
        }
        byte[] body =
            (marker + " " + exchange.getRequestMethod() + " " + received)
                .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain");
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
}
