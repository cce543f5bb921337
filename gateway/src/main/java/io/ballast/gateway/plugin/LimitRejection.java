package io.ballast.gateway.plugin;

import java.util.Map;

/** How limit-count and limit-req answer a request over the limit: APISIX's rejected_code/msg. */
record LimitRejection(int code, String message) {

  static LimitRejection read(PluginConfig config) {
    int code = config.integer("rejected_code", 200, 599, 503);
    String message = config.has("rejected_msg") ? config.requiredString("rejected_msg") : null;
    return new LimitRejection(code, message);
  }

  /** {@code {"error_msg": message}} when a message is set; otherwise the status alone. */
  Reply reply() {
    return message == null ? Reply.empty(code) : Reply.json(code, Map.of("error_msg", message));
  }
}
