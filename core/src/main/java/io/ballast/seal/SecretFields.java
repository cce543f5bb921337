package io.ballast.seal;

import io.ballast.resource.ResourceType;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Where APISIX resources hold secrets, as APISIX's Admin API encrypts them: the {@code
 * encrypt_fields} each plugin's schema declares (in every resource that carries {@code plugins}),
 * an ssl's {@code key} and {@code keys}, and an upstream's {@code tls.client_key} (also inside a
 * route's or service's own {@code upstream}).
 */
final class SecretFields {

  /**
   * APISIX's {@code encrypt_fields} of the plugins Ballast runs; a plugin Ballast does not run is
   * refused before it is stored, so it has no entry.
   */
  static final Map<String, List<String>> PLUGIN_FIELDS =
      Map.of(
          "key-auth", List.of("key"),
          "basic-auth", List.of("password"),
          "limit-count", List.of("redis_password", "sentinel_password"),
          "limit-req", List.of("redis_password"));

  private SecretFields() {}

  /** One secret string found: its path for messages, and its value. */
  @FunctionalInterface
  interface Visitor {
    /**
     * @return the value to leave in its place
     */
    String visit(String path, String value);
  }

  /**
   * Calls {@code visitor} on every secret string of {@code value}, a resource of {@code type}, and
   * writes back what it returns unless it returns the very string it was given: a visitor that only
   * reads changes nothing, so it may walk a value others share. Fields that are not strings are
   * left for the resource's own checks to refuse.
   */
  static void rewrite(ResourceType type, ObjectNode value, Visitor visitor) {
    switch (type) {
      case SSLS -> {
        rewriteField(value, "key", "key", visitor);
        if (value.get("keys") instanceof ArrayNode keys) {
          for (int i = 0; i < keys.size(); i++) {
            if (keys.get(i).isString()) {
              String current = keys.get(i).stringValue();
              String next = visitor.visit("keys[" + i + "]", current);
              if (next != current) {
                keys.set(i, keys.stringNode(next));
              }
            }
          }
        }
      }
      case UPSTREAMS -> rewriteUpstream(value, "", visitor);
      case ROUTES, SERVICES -> {
        rewritePlugins(value, visitor);
        if (value.get("upstream") instanceof ObjectNode upstream) {
          rewriteUpstream(upstream, "upstream.", visitor);
        }
      }
      case CONSUMERS, PLUGIN_CONFIGS, GLOBAL_RULES -> rewritePlugins(value, visitor);
      case PLUGIN_METADATA -> {
        // None of Ballast's plugins declares a secret in its metadata.
      }
    }
  }

  private static void rewritePlugins(ObjectNode value, Visitor visitor) {
    if (!(value.get("plugins") instanceof ObjectNode plugins)) {
      return;
    }
    // In the order written, so that the first field refused is the same on every run.
    for (Map.Entry<String, JsonNode> plugin : plugins.properties()) {
      List<String> fields = PLUGIN_FIELDS.getOrDefault(plugin.getKey(), List.of());
      if (!fields.isEmpty() && plugin.getValue() instanceof ObjectNode config) {
        for (String field : fields) {
          rewriteField(config, field, "plugins." + plugin.getKey() + "." + field, visitor);
        }
      }
    }
  }

  private static void rewriteUpstream(ObjectNode upstream, String prefix, Visitor visitor) {
    if (upstream.get("tls") instanceof ObjectNode tls) {
      rewriteField(tls, "client_key", prefix + "tls.client_key", visitor);
    }
  }

  private static void rewriteField(ObjectNode node, String field, String path, Visitor visitor) {
    JsonNode current = node.get(field);
    if (current != null && current.isString()) {
      String next = visitor.visit(path, current.stringValue());
      if (next != current.stringValue()) {
        node.put(field, next);
      }
    }
  }
}
