package io.ballast.dataplane;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reasons a data plane reports now, each with its detail and since when, and how often each
 * code was raised. Thread-safe; {@link DataPlane} logs the changes it returns.
 */
final class Health {

  /** One reason in force. */
  record Reason(ReasonCode code, String detail, Instant since) {}

  private final Map<ReasonCode, Reason> active = new EnumMap<>(ReasonCode.class);
  private final Map<ReasonCode, Long> raised = new EnumMap<>(ReasonCode.class);

  /**
   * Puts {@code code} in force with {@code detail}; a code already in force keeps its {@code since}
   * and takes the new detail.
   *
   * @return true when the code was not in force: news worth a WARN
   */
  synchronized boolean report(ReasonCode code, String detail, Instant now) {
    Reason before = active.get(code);
    if (before != null) {
      active.put(code, new Reason(code, detail, before.since()));
      return false;
    }
    active.put(code, new Reason(code, detail, now));
    raised.merge(code, 1L, Long::sum);
    return true;
  }

  /** Ends {@code code}; returns the reason that was in force, if any. */
  synchronized Reason clear(ReasonCode code) {
    return active.remove(code);
  }

  synchronized boolean has(ReasonCode code) {
    return active.containsKey(code);
  }

  synchronized List<Reason> reasons() {
    return List.copyOf(active.values());
  }

  /** {@code ok}, {@code degraded} (served, with reasons) or {@code not_ready} (nothing served). */
  synchronized String state(boolean serving) {
    if (!serving) {
      return "not_ready";
    }
    return active.isEmpty() ? "ok" : "degraded";
  }

  /** {@code data_plane.health}: the state, the reasons in force and a count per code raised. */
  synchronized Map<String, Object> status(boolean serving) {
    Map<String, Object> health = new LinkedHashMap<>();
    health.put("state", state(serving));
    List<Map<String, Object>> reasons = new ArrayList<>();
    for (Reason reason : active.values()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("code", reason.code().id());
      entry.put("detail", reason.detail());
      entry.put("since", reason.since().toString());
      reasons.add(entry);
    }
    health.put("reasons", reasons);
    Map<String, Object> totals = new LinkedHashMap<>();
    for (ReasonCode code : ReasonCode.values()) {
      totals.put(code.id(), raised.getOrDefault(code, 0L));
    }
    health.put("reasons_total", totals);
    return health;
  }

  /** The counters and the reasons in force in Prometheus' text format. */
  synchronized String prometheus() {
    StringBuilder out = new StringBuilder(1024);
    out.append("# HELP ballast_data_plane_reasons_total Times each health reason was raised\n")
        .append("# TYPE ballast_data_plane_reasons_total counter\n");
    for (ReasonCode code : ReasonCode.values()) {
      out.append("ballast_data_plane_reasons_total{code=\"")
          .append(code.id())
          .append("\"} ")
          .append(raised.getOrDefault(code, 0L))
          .append('\n');
    }
    out.append("# HELP ballast_data_plane_reason Whether each health reason is in force (1) now\n")
        .append("# TYPE ballast_data_plane_reason gauge\n");
    for (ReasonCode code : ReasonCode.values()) {
      out.append("ballast_data_plane_reason{code=\"")
          .append(code.id())
          .append("\"} ")
          .append(active.containsKey(code) ? 1 : 0)
          .append('\n');
    }
    return out.toString();
  }
}
