package io.ballast.gateway.plugin;

/**
 * One plugin's compiled configuration on one route, service, consumer, global rule or plugin
 * config. An instance serves every request that reaches it, concurrently, so it keeps per-request
 * state in the {@link Exchange}, never in its own fields. The phases are APISIX's.
 */
public interface Plugin {

  /**
   * APISIX's rewrite phase, before the consumer is known. Authentication plugins identify the
   * consumer here ({@link Exchange#consumer(Consumer)}).
   */
  default Outcome rewrite(Exchange exchange) {
    return Outcome.proceed();
  }

  /** APISIX's access phase; the consumer's own plugins have been merged in by now. */
  default Outcome access(Exchange exchange) {
    return Outcome.proceed();
  }

  /**
   * APISIX's header_filter: the response's status and headers, from the upstream or from a plugin's
   * reply, before they are sent.
   */
  default void responseHead(Exchange exchange, ResponseHead response) {}

  /** APISIX's log phase: once the exchange has ended, however it ended. Must not throw. */
  default void log(Exchange exchange) {}
}
