package io.ballast.gateway.plugin;

import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * APISIX's {@code key-auth}: recognises the consumer by the key sent in a header, or failing that a
 * query parameter, and answers 401 when there is none or it is no consumer's.
 *
 * <p>Keys are found by a hash look-up in an index built once per configuration, as APISIX does (its
 * {@code consumers_kv} table): the look-up hashes the key sent, so its time does not depend on how
 * much of a stored key matches, short of a full hash collision.
 */
final class KeyAuthPlugin implements Plugin {

  static final String NAME = "key-auth";

  private final String header;
  private final String query;
  private final boolean hideCredentials;
  private final Map<String, Consumer> consumersByKey;

  private KeyAuthPlugin(
      String header, String query, boolean hideCredentials, Map<String, Consumer> consumersByKey) {
    this.header = header;
    this.query = query;
    this.hideCredentials = hideCredentials;
    this.consumersByKey = consumersByKey;
  }

  @Override
  public Outcome rewrite(Exchange exchange) {
    boolean fromHeader = true;
    String key = first(exchange.request().headers(header));
    if (key == null) {
      fromHeader = false;
      key = first(exchange.request().queryParams(query));
    }
    if (key == null) {
      return Outcome.reply(Reply.message(401, "Missing API key in request"));
    }
    Consumer consumer = consumersByKey.get(key);
    if (consumer == null) {
      return Outcome.reply(Reply.message(401, "Invalid API key in request"));
    }
    if (hideCredentials) {
      if (fromHeader) {
        exchange.upstreamHeaders().remove(header);
      } else {
        exchange.upstreamUri(withoutQueryParam(exchange.upstreamUri(), query));
      }
    }
    exchange.consumer(consumer);
    return Outcome.proceed();
  }

  private static String first(List<String> values) {
    return values.isEmpty() ? null : values.get(0);
  }

  /**
   * {@code uri} without any {@code name=...} pair in its query; every other pair stays exactly as
   * sent, still encoded, in its order.
   */
  static String withoutQueryParam(String uri, String name) {
    int q = uri.indexOf('?');
    if (q < 0) {
      return uri;
    }
    StringBuilder kept = new StringBuilder();
    for (String pair : uri.substring(q + 1).split("&", -1)) {
      int eq = pair.indexOf('=');
      String rawName = eq < 0 ? pair : pair.substring(0, eq);
      if (pair.isEmpty() || decode(rawName).equals(name)) {
        continue;
      }
      kept.append(kept.length() == 0 ? "" : "&").append(pair);
    }
    String path = uri.substring(0, q);
    return kept.length() == 0 ? path : path + "?" + kept;
  }

  private static String decode(String component) {
    try {
      return QueryStringDecoder.decodeComponent(component);
    } catch (IllegalArgumentException e) {
      // A malformed escape cannot spell the parameter's name; compare it as sent.
      return component;
    }
  }

  /** The keys seen while compiling consumers, to refuse a key that two consumers hold. */
  private static final class KeyOwners {
    final Map<String, String> ownerByKey = new HashMap<>();
  }

  /** Key to consumer, built once per configuration from the consumers' key-auth objects. */
  private static final class KeyIndex {
    final Map<String, Consumer> consumersByKey;

    KeyIndex(Consumers consumers) {
      Map<String, Consumer> index = new HashMap<>();
      for (Consumers.Credential credential : consumers.credentials(NAME)) {
        // Checked when the consumer was compiled: present, a non-empty string and unique.
        index.put(credential.config().get("key").stringValue(), credential.consumer());
      }
      this.consumersByKey = Map.copyOf(index);
    }
  }

  static final class Factory implements PluginFactory {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public int priority() {
      return 2500;
    }

    @Override
    public Plugin compile(PluginConfig config, PluginContext context) {
      if (context.scope() == PluginContext.Scope.CONSUMER) {
        compileCredential(config, context);
        return PluginChain.NOTHING_TO_RUN;
      }
      config.allowOnly("header", "query", "hide_credentials", "anonymous_consumer", "realm");
      refuseUnsupported(config, "anonymous_consumer");
      refuseUnsupported(config, "realm");
      String header = nonBlank(config, "header");
      String query = nonBlank(config, "query");
      boolean hideCredentials = config.bool("hide_credentials", false);
      KeyIndex index =
          context.perConfiguration(
              NAME + ".index", KeyIndex.class, () -> new KeyIndex(context.consumers()));
      return new KeyAuthPlugin(header, query, hideCredentials, index.consumersByKey);
    }

    private static void compileCredential(PluginConfig config, PluginContext context) {
      config.allowOnly("key");
      String key = config.requiredString("key");
      KeyOwners owners =
          context.perConfiguration(NAME + ".owners", KeyOwners.class, KeyOwners::new);
      String other = owners.ownerByKey.putIfAbsent(key, config.owner());
      if (other != null) {
        // Never the key itself: the message goes to logs and Admin API answers.
        throw config.invalid("key", "is the same as " + other + "'s; keys must be unique");
      }
    }

    private static String nonBlank(PluginConfig config, String key) {
      String value = config.string(key, "apikey");
      if (value.isBlank()) {
        throw config.invalid(key, "must not be blank");
      }
      return value;
    }
  }

  /** Refuses a field APISIX documents but Ballast does not implement, rather than ignoring it. */
  static void refuseUnsupported(PluginConfig config, String key) {
    if (config.has(key)) {
      throw config.invalid(key, "is not supported by Ballast");
    }
  }
}
