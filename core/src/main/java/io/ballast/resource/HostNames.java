package io.ballast.resource;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/** The host names routes, services and ssls match on, as APISIX's {@code host_def} takes them. */
final class HostNames {

  // An optional leading wildcard, then host characters (IPv6 brackets allowed).
  private static final Pattern HOST = Pattern.compile("\\*?[0-9a-zA-Z._\\[\\]:-]+");

  private HostNames() {}

  /** {@code host} or {@code hosts} (not both), lower case; empty when neither is given. */
  static List<String> hostOrHosts(JsonNode resource, Fields fields) {
    JsonNode host = resource.get("host");
    JsonNode hosts = resource.get("hosts");
    if (host != null && hosts != null) {
      throw fields.invalid("hosts", "give either host or hosts, not both");
    }
    if (host != null) {
      return List.of(one(host, fields, "host"));
    }
    return hosts == null ? List.of() : list(hosts, fields, "hosts");
  }

  /** A non-empty array of host names, lower case. */
  static List<String> list(JsonNode names, Fields fields, String field) {
    fields.nonEmptyArray(names, field);
    List<String> result = new ArrayList<>(names.size());
    for (int i = 0; i < names.size(); i++) {
      result.add(one(names.get(i), fields, field + "[" + i + "]"));
    }
    return List.copyOf(result);
  }

  /** One host name, optionally starting with {@code *}, lower case. */
  static String one(JsonNode name, Fields fields, String field) {
    if (!name.isString() || !HOST.matcher(name.stringValue()).matches()) {
      throw fields.invalid(field, "must be a host name, optionally starting with '*'");
    }
    return name.stringValue().toLowerCase(Locale.ROOT);
  }
}
