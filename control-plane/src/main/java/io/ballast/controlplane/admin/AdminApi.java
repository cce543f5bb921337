package io.ballast.controlplane.admin;

import io.ballast.controlplane.store.ConfigStore;
import io.ballast.controlplane.store.StoreConflictException;
import io.ballast.controlplane.store.StoredResource;
import io.ballast.gateway.plugin.PluginRegistry;
import io.ballast.gateway.route.RouteTable;
import io.ballast.resource.Cidr;
import io.ballast.resource.InvalidResourceException;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceType;
import io.ballast.seal.Sealing;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.HandlerFunction;
import org.springframework.web.reactive.function.server.RequestPredicates;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * APISIX's Admin API (v3 response shapes) for routes, services, upstreams and consumers, over a
 * {@link ConfigStore}. A client's address must be in {@code allow_admin} (else 403, before anything
 * else), and every request needs one of the admin keys in the {@code X-API-KEY} header or the
 * {@code api_key} query parameter (else 401); a {@code viewer} key may only GET (else 403). Nothing
 * reaches the store unless {@link io.ballast.resource.Resource#parse} reads it and the data plane's
 * compiler accepts it.
 */
public final class AdminApi {

  static final String PREFIX = "/apisix/admin";
  private static final String COLLECTION = PREFIX + "/{type}";
  private static final String ITEM = PREFIX + "/{type}/{id}";
  private static final String KEY_HEADER = "X-API-KEY";
  private static final String KEY_PARAM = "api_key";

  /**
   * Ballast's own (APISIX has no shrink guard): {@code ?confirm_shrink=true} on a write says the
   * operator means to remove many routes, so that the export holding it is not held by {@code
   * fallback_cp.max_route_shrink}.
   */
  static final String CONFIRM_SHRINK_PARAM = "confirm_shrink";

  /** Confirms the removals made so far, after the fact (admin role, as every write). */
  static final String CONFIRM_SHRINK_PATH = PREFIX + "/ballast/confirm_shrink";

  private static final Logger log = LoggerFactory.getLogger(AdminApi.class);

  /**
   * APISIX's refusals ({@code check_token} in its {@code apisix/admin/init.lua}), word for word.
   */
  private static final String TOKEN_ERROR = "failed to check token";

  private static final String MISSING_KEY = "missing apikey";
  private static final String WRONG_KEY = "wrong apikey";
  private static final String VIEWER_WRITE = "invalid method for role viewer";

  /** What nginx answers when APISIX's {@code allow_admin} (nginx's allow/deny) refuses a client. */
  private static final String FORBIDDEN_PAGE =
      "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
          + "<center><h1>403 Forbidden</h1></center>\r\n<hr><center>ballast</center>\r\n"
          + "</body>\r\n</html>\r\n";

  /** A key as compared: its SHA-256, and what it may do. */
  private record KeyDigest(byte[] sha256, AdminKey.Role role) {}

  private final ConfigStore store;
  private final AdminAccess access;
  private final List<KeyDigest> keyDigests;
  private final AdminIds ids;
  private final Sealing sealing;
  private final JsonMapper mapper = Json.mapper();

  /** The plugins the data planes run: a write they could not compile is refused here. */
  private final PluginRegistry plugins = PluginRegistry.standard();

  private AdminApi(ConfigStore store, AdminAccess access, Sealing sealing, Clock clock) {
    this.store = store;
    this.access = access;
    this.keyDigests =
        access.keys().stream().map(key -> new KeyDigest(sha256(key.key()), key.role())).toList();
    this.ids = new AdminIds(clock);
    this.sealing = sealing;
  }

  /**
   * The Admin API's endpoints under {@code /apisix/admin}.
   *
   * @param access the addresses served and the keys accepted ({@code deployment.admin})
   */
  public static RouterFunction<ServerResponse> routes(ConfigStore store, AdminAccess access) {
    return routes(store, access, Sealing.off());
  }

  /**
   * @param sealing seals secrets before the store sees them, and opens sealed ones for checks
   */
  public static RouterFunction<ServerResponse> routes(
      ConfigStore store, AdminAccess access, Sealing sealing) {
    return routes(store, access, sealing, Clock.systemUTC());
  }

  static RouterFunction<ServerResponse> routes(
      ConfigStore store, AdminAccess access, Sealing sealing, Clock clock) {
    AdminApi api = new AdminApi(store, access, sealing, clock);
    return RouterFunctions.route()
        .POST(CONFIRM_SHRINK_PATH, api::confirmShrink)
        .GET(COLLECTION, api::list)
        .PUT(COLLECTION, api::putWithIdInBody)
        // APISIX creates consumers by username, with PUT only.
        .POST(PREFIX + "/{type:" + ResourceType.CONSUMERS.plural() + "}", api::methodNotAllowed)
        .POST(COLLECTION, api::post)
        .GET(ITEM, api::get)
        .PUT(ITEM, api::put)
        .PATCH(ITEM, api::patch)
        .DELETE(ITEM, api::delete)
        .route(
            RequestPredicates.path(COLLECTION).or(RequestPredicates.path(ITEM)),
            api::methodNotAllowed)
        // Every other path too, so that the filters below see every request the listener gets.
        .route(RequestPredicates.all(), AdminApi::unknownPath)
        // Each filter wraps the next: the address is checked first, as nginx's allow/deny is in
        // APISIX; authentication's refusal is mapped like any error.
        .filter(api::allowAddress)
        .filter(api::mapErrors)
        .filter(api::authenticate)
        .build();
  }

  /**
   * A request the API refuses, with the status and message to answer, and APISIX's {@code
   * description} where it gives one.
   */
  private static final class AdminError extends RuntimeException {
    private final HttpStatus status;
    private final String description;

    AdminError(HttpStatus status, String message) {
      this(status, message, null);
    }

    AdminError(HttpStatus status, String message, String description) {
      super(message, null, false, false);
      this.status = status;
      this.description = description;
    }
  }

  /**
   * {@code allow_admin}, on the address the connection comes from (never a forwarded header), as
   * nginx's allow/deny does it for APISIX: a refused client learns nothing else, not even whether a
   * path exists.
   */
  private Mono<ServerResponse> allowAddress(
      ServerRequest request, HandlerFunction<ServerResponse> next) {
    InetAddress client = request.remoteAddress().map(InetSocketAddress::getAddress).orElse(null);
    for (Cidr allowed : access.allowed()) {
      if (allowed.matches(client)) {
        return next.handle(request);
      }
    }
    log.info(
        "Admin API: refused {}: not in deployment.admin.allow_admin",
        client == null ? "a client without an address" : client.getHostAddress());
    return ServerResponse.status(HttpStatus.FORBIDDEN)
        .contentType(MediaType.TEXT_HTML)
        .bodyValue(FORBIDDEN_PAGE);
  }

  /**
   * Every path, known or not, needs a key: 401 comes before 404 and 405. A viewer key may only
   * read: any other method is refused (APISIX answers 401 with the same body; 403 says what it is,
   * a known key without the right).
   */
  private Mono<ServerResponse> authenticate(
      ServerRequest request, HandlerFunction<ServerResponse> next) {
    if (!access.keyRequired()) {
      return next.handle(request);
    }
    String presented = request.headers().firstHeader(KEY_HEADER);
    if (presented == null) {
      presented = request.queryParam(KEY_PARAM).orElse(null);
    }
    if (presented == null) {
      return Mono.error(new AdminError(HttpStatus.UNAUTHORIZED, TOKEN_ERROR, MISSING_KEY));
    }
    AdminKey.Role role = role(presented);
    if (role == null) {
      return Mono.error(new AdminError(HttpStatus.UNAUTHORIZED, TOKEN_ERROR, WRONG_KEY));
    }
    if (role == AdminKey.Role.VIEWER && !HttpMethod.GET.equals(request.method())) {
      return Mono.error(new AdminError(HttpStatus.FORBIDDEN, TOKEN_ERROR, VIEWER_WRITE));
    }
    return next.handle(request);
  }

  /** Turns whatever a handler threw or signalled into the answer for it. */
  private Mono<ServerResponse> mapErrors(
      ServerRequest request, HandlerFunction<ServerResponse> next) {
    return Mono.defer(() -> next.handle(request)).onErrorResume(this::errorResponse);
  }

  /** The resource type named by the path, or a 404 listing the types this API serves. */
  private static ResourceType type(ServerRequest request) {
    String plural = request.pathVariable("type");
    return ResourceType.fromPlural(plural)
        .orElseThrow(
            () ->
                new AdminError(
                    HttpStatus.NOT_FOUND,
                    "unknown resource type '"
                        + plural
                        + "'; this API serves "
                        + Arrays.stream(ResourceType.values())
                            .map(ResourceType::plural)
                            .collect(Collectors.joining(", "))));
  }

  private static Mono<byte[]> body(ServerRequest request) {
    return request.bodyToMono(byte[].class).defaultIfEmpty(new byte[0]);
  }

  private Mono<ServerResponse> list(ServerRequest request) {
    ResourceType type = type(request);
    Map<String, StoredResource> resources = store.view().resources(type);
    ObjectNode body = mapper.createObjectNode();
    body.put("total", resources.size());
    ArrayNode list = body.putArray("list");
    resources.values().forEach(stored -> list.add(single(stored)));
    return json(HttpStatus.OK, body);
  }

  private Mono<ServerResponse> get(ServerRequest request) {
    ResourceType type = type(request);
    String id = request.pathVariable("id");
    StoredResource stored = store.get(type, id).orElseThrow(() -> notFound(type, id));
    return json(HttpStatus.OK, single(stored));
  }

  private Mono<ServerResponse> putWithIdInBody(ServerRequest request) {
    ResourceType type = type(request);
    boolean confirmShrink = confirmShrinkParameter(request);
    return body(request).flatMap(body -> putWithIdInBody(type, body, confirmShrink));
  }

  private Mono<ServerResponse> post(ServerRequest request) {
    ResourceType type = type(request);
    boolean confirmShrink = confirmShrinkParameter(request);
    return body(request).flatMap(body -> post(type, body, confirmShrink));
  }

  private Mono<ServerResponse> put(ServerRequest request) {
    ResourceType type = type(request);
    String id = request.pathVariable("id");
    boolean confirmShrink = confirmShrinkParameter(request);
    return body(request).flatMap(body -> put(type, id, parse(body), confirmShrink));
  }

  /**
   * A JSON merge patch (RFC 7396) of the stored value, as APISIX's PATCH does: objects merge,
   * {@code null} removes a field, anything else replaces it. Concurrent writes to the same resource
   * between the read and the write are not detected: the last writer wins.
   */
  private Mono<ServerResponse> patch(ServerRequest request) {
    ResourceType type = type(request);
    String id = request.pathVariable("id");
    boolean confirmShrink = confirmShrinkParameter(request);
    return body(request)
        .flatMap(
            body -> {
              ObjectNode patch = parse(body);
              StoredResource stored = store.get(type, id).orElseThrow(() -> notFound(type, id));
              // Merge over the secrets in plain text, as APISIX does, so that they are sealed once.
              ObjectNode merged = sealing.opened(stored.resource()).value().deepCopy();
              mergePatch(merged, patch);
              return put(type, id, merged, confirmShrink);
            });
  }

  private Mono<ServerResponse> delete(ServerRequest request) {
    ResourceType type = type(request);
    String id = request.pathVariable("id");
    boolean confirmShrink = confirmShrinkParameter(request);
    return write(() -> store.delete(type, id, confirmShrink))
        .flatMap(
            deleted -> {
              if (deleted.isEmpty()) {
                return Mono.error(notFound(type, id));
              }
              ObjectNode body = mapper.createObjectNode();
              body.put("deleted", id);
              body.put("key", key(type, id));
              return json(HttpStatus.OK, body);
            });
  }

  /**
   * {@code POST /apisix/admin/ballast/confirm_shrink}: the operator confirms, after the fact, the
   * removals the shrink guard holds. The confirmation is a write of its own (a new revision that
   * changes no resource), so the export built from it carries {@code shrink_confirmed} and goes out
   * at once.
   */
  private Mono<ServerResponse> confirmShrink(ServerRequest request) {
    return write(store::confirmShrink)
        .flatMap(
            revision -> {
              log.warn(
                  "Admin API: an operator confirmed a shrink at revision {}; the export of this"
                      + " revision goes out whatever share of the routes it removes",
                  revision);
              ObjectNode body = mapper.createObjectNode();
              body.put("shrink_confirmed", true);
              body.put("revision", revision);
              return json(HttpStatus.OK, body);
            });
  }

  /** {@code ?confirm_shrink=true|false}; anything else is refused rather than read as false. */
  private static boolean confirmShrinkParameter(ServerRequest request) {
    String value = request.queryParam(CONFIRM_SHRINK_PARAM).orElse("false");
    return switch (value) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new AdminError(
              HttpStatus.BAD_REQUEST,
              "invalid query parameter "
                  + CONFIRM_SHRINK_PARAM
                  + ": must be true or false, not '"
                  + value
                  + "'");
    };
  }

  /** A known path with a method it does not take; an unknown type is still a 404. */
  private Mono<ServerResponse> methodNotAllowed(ServerRequest request) {
    ResourceType type = type(request);
    String allowed;
    if (request.pathVariables().containsKey("id")) {
      allowed = "GET, PUT, PATCH, DELETE";
    } else {
      allowed = type == ResourceType.CONSUMERS ? "GET, PUT" : "GET, PUT, POST";
    }
    ObjectNode body = mapper.createObjectNode();
    body.put(
        "error_msg",
        "method "
            + request.method().name()
            + " is not supported on "
            + request.path()
            + "; allowed: "
            + allowed);
    return ServerResponse.status(HttpStatus.METHOD_NOT_ALLOWED)
        .header(HttpHeaders.ALLOW, allowed)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(mapper.writeValueAsBytes(body));
  }

  private static Mono<ServerResponse> unknownPath(ServerRequest request) {
    throw new AdminError(HttpStatus.NOT_FOUND, "unknown Admin API path " + request.path());
  }

  private Mono<ServerResponse> putWithIdInBody(
      ResourceType type, byte[] body, boolean confirmShrink) {
    ObjectNode value = parse(body);
    JsonNode given = value.get(type.idField());
    String id = null;
    if (given != null && !given.isNull()) {
      id = given.isString() || given.isIntegralNumber() ? given.asString() : given.toString();
    }
    return put(type, id, value, confirmShrink);
  }

  private Mono<ServerResponse> post(ResourceType type, byte[] body, boolean confirmShrink) {
    ObjectNode value = parse(body);
    String idField = type.idField();
    if (value.has(idField)) {
      throw new AdminError(
          HttpStatus.BAD_REQUEST,
          "wrong "
              + type.singular()
              + " id: field '"
              + idField
              + "' must not be given with POST, which generates it; use PUT "
              + PREFIX
              + "/"
              + type.plural()
              + "/{id} to choose it");
    }
    String id = ids.next();
    while (store.get(type, id).isPresent()) {
      id = ids.next();
    }
    return put(type, id, value, confirmShrink);
  }

  /**
   * Checks and stores a resource. A secret given sealed (a value copied from a GET) is opened with
   * the keyring, or refused when no entry opens it; the store receives every secret sealed.
   */
  private Mono<ServerResponse> put(
      ResourceType type, String id, ObjectNode value, boolean confirmShrink) {
    Resource resource = sealing.opened(Resource.parse(type, id, value));
    checkCompiles(resource);
    Resource sealed = sealing.forStore(resource);
    return write(() -> store.put(sealed, confirmShrink))
        .flatMap(
            stored -> json(stored.created() ? HttpStatus.CREATED : HttpStatus.OK, single(stored)));
  }

  /**
   * Compiles the resource as a data plane would, so that nothing reaches the store that every data
   * plane would refuse (and, refusing the snapshot, stop following changes). Consumers are compiled
   * together, so two consumers cannot hold the same credential.
   */
  private void checkCompiles(Resource resource) {
    Map<String, Resource> consumers = new TreeMap<>();
    store
        .view()
        .resources(ResourceType.CONSUMERS)
        .forEach(
            (consumerId, stored) -> consumers.put(consumerId, sealing.opened(stored.resource())));
    if (resource.type() == ResourceType.CONSUMERS) {
      consumers.put(resource.id(), resource);
    }
    try {
      RouteTable.check(resource, plugins, consumers.values());
    } catch (IllegalArgumentException e) {
      throw new AdminError(HttpStatus.BAD_REQUEST, e.getMessage());
    }
  }

  private static void mergePatch(ObjectNode target, ObjectNode patch) {
    for (Map.Entry<String, JsonNode> field : patch.properties()) {
      JsonNode value = field.getValue();
      JsonNode existing = target.get(field.getKey());
      if (value.isNull()) {
        target.remove(field.getKey());
      } else if (value.isObject() && existing != null && existing.isObject()) {
        mergePatch((ObjectNode) existing, (ObjectNode) value);
      } else {
        target.set(field.getKey(), value.deepCopy());
      }
    }
  }

  /** Store writes wait for the disk; keep them off the event loop. */
  private static <T> Mono<T> write(Callable<T> write) {
    return Mono.fromCallable(write).subscribeOn(Schedulers.boundedElastic());
  }

  private ObjectNode parse(byte[] body) {
    if (body.length == 0) {
      throw new AdminError(HttpStatus.BAD_REQUEST, "invalid request body: it is empty");
    }
    JsonNode node;
    try {
      node = mapper.readTree(body);
    } catch (JacksonException e) {
      TokenStreamLocation where = e.getLocation();
      throw new AdminError(
          HttpStatus.BAD_REQUEST,
          "invalid request body: not valid JSON"
              + (where == null
                  ? ""
                  : " at line " + where.getLineNr() + ", column " + where.getColumnNr())
              + ": "
              + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new AdminError(
          HttpStatus.BAD_REQUEST,
          "invalid request body: expected a JSON object, got "
              + (node == null ? "nothing" : node.getNodeType().name().toLowerCase()));
    }
    return (ObjectNode) node;
  }

  private ObjectNode single(StoredResource stored) {
    Resource resource = stored.resource();
    ObjectNode node = mapper.createObjectNode();
    node.put("key", key(resource.type(), resource.id()));
    node.set("value", withoutPrivateKeys(resource));
    node.put("createdIndex", stored.createdIndex());
    node.put("modifiedIndex", stored.modifiedIndex());
    return node;
  }

  /**
   * An ssl without its private keys, which APISIX's GET never returns ({@code key}; Ballast also
   * leaves out {@code keys}, private keys all the same). Consumers' secrets are answered as stored:
   * sealed when sealing is on, as APISIX does.
   */
  private static JsonNode withoutPrivateKeys(Resource resource) {
    if (resource.type() != ResourceType.SSLS) {
      return resource.value();
    }
    ObjectNode value = resource.value().deepCopy();
    value.remove("key");
    value.remove("keys");
    return value;
  }

  private static String key(ResourceType type, String id) {
    return "/apisix/" + type.plural() + "/" + id;
  }

  private static AdminError notFound(ResourceType type, String id) {
    return new AdminError(HttpStatus.NOT_FOUND, type.singular() + " '" + id + "' not found");
  }

  /** The role of the key presented, or null for no key of ours. */
  private AdminKey.Role role(String presented) {
    // Compare digests, so that every comparison takes the same time whatever the key's length,
    // and compare with every key, so that the time does not tell which one matched.
    byte[] digest = sha256(presented);
    AdminKey.Role role = null;
    for (KeyDigest key : keyDigests) {
      if (MessageDigest.isEqual(digest, key.sha256()) && role == null) {
        role = key.role();
      }
    }
    return role;
  }

  private Mono<ServerResponse> errorResponse(Throwable error) {
    if (error instanceof AdminError adminError) {
      return error(adminError.status, adminError.getMessage(), adminError.description);
    }
    if (error instanceof InvalidResourceException || error instanceof StoreConflictException) {
      return error(HttpStatus.BAD_REQUEST, error.getMessage());
    }
    if (error instanceof DataBufferLimitException) {
      return error(HttpStatus.PAYLOAD_TOO_LARGE, "invalid request body: " + error.getMessage());
    }
    // Details (paths, I/O errors) stay in the log; the client gets an id to quote.
    String incident = Long.toString(System.nanoTime(), 36);
    log.error("Admin API request failed (incident {})", incident, error);
    return error(
        HttpStatus.INTERNAL_SERVER_ERROR,
        "internal error; incident " + incident + " in the CP log");
  }

  private Mono<ServerResponse> error(HttpStatus status, String message) {
    return error(status, message, null);
  }

  private Mono<ServerResponse> error(HttpStatus status, String message, String description) {
    ObjectNode body = mapper.createObjectNode();
    body.put("error_msg", message);
    if (description != null) {
      body.put("description", description);
    }
    return json(status, body);
  }

  private Mono<ServerResponse> json(HttpStatus status, JsonNode body) {
    return ServerResponse.status(status)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(mapper.writeValueAsBytes(body));
  }

  private static byte[] sha256(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
