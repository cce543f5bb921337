package io.ballast.gateway.plugin;

import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Runs the plugins of one request in APISIX's order: the global rules' rewrite, the route's rewrite
 * (authentication finds the consumer here), the consumer's own plugins' rewrite, the global rules'
 * access, then the access phase of the route's plugins merged with the consumer's. Response heads
 * and the log phase go through the global rules and then the merged chain.
 *
 * <p>Plugins decide synchronously; only a {@link Outcome#delay} leaves the calling thread, on a
 * timer, so a request without delays runs its plugins without allocating a pipeline.
 */
public final class PluginRunner {

  private static final Logger LOG = LoggerFactory.getLogger(PluginRunner.class);

  private enum Phase {
    GLOBAL_REWRITE,
    ROUTE_REWRITE,
    CONSUMER_REWRITE,
    GLOBAL_ACCESS,
    ACCESS,
    DONE
  }

  private final PluginChain global;
  private final PluginChain route;
  private PluginChain consumer = PluginChain.EMPTY;
  private PluginChain effective;

  /** {@code route} is the matched route's chain; {@link PluginChain#EMPTY} when none matched. */
  public PluginRunner(PluginChain global, PluginChain route) {
    this.global = global;
    this.route = route;
    this.effective = route;
  }

  /** Whether any plugin runs at all; the proxy skips the runner's work when none does. */
  public boolean isEmpty() {
    return global.isEmpty() && route.isEmpty();
  }

  /**
   * The request phases. Completes empty when the request goes on to the upstream, or with the reply
   * a plugin answered with.
   */
  public Mono<Reply> request(Exchange exchange) {
    return resume(exchange, Phase.GLOBAL_REWRITE, 0);
  }

  private Mono<Reply> resume(Exchange exchange, Phase phase, int index) {
    Phase p = phase;
    int i = index;
    while (p != Phase.DONE) {
      PluginChain chain = chainOf(p, exchange);
      if (i >= chain.size()) {
        p = Phase.values()[p.ordinal() + 1];
        i = 0;
        continue;
      }
      PluginChain.Entry entry = chain.get(i);
      Outcome outcome =
          (p == Phase.GLOBAL_ACCESS || p == Phase.ACCESS)
              ? entry.plugin().access(exchange)
              : entry.plugin().rewrite(exchange);
      if (outcome.reply() != null) {
        return Mono.just(outcome.reply());
      }
      i++;
      if (!outcome.delay().isZero()) {
        Phase next = p;
        int nextIndex = i;
        Duration delay = outcome.delay();
        return Mono.delay(delay).then(Mono.defer(() -> resume(exchange, next, nextIndex)));
      }
    }
    return Mono.empty();
  }

  private PluginChain chainOf(Phase phase, Exchange exchange) {
    return switch (phase) {
      case GLOBAL_REWRITE, GLOBAL_ACCESS -> global;
      case ROUTE_REWRITE -> route;
      case CONSUMER_REWRITE -> {
        // Entered once, right after the route's rewrite: the consumer is known from here on.
        if (exchange.consumer() != null && consumer == PluginChain.EMPTY) {
          consumer = exchange.consumer().plugins();
          effective = route.withConsumer(consumer);
        }
        yield consumer;
      }
      case ACCESS -> effective;
      case DONE -> PluginChain.EMPTY;
    };
  }

  /** Lets every plugin see and change the response head, global rules first. */
  public void responseHead(Exchange exchange, ResponseHead head) {
    forEach(p -> p.responseHead(exchange, head));
  }

  /** The log phase; a plugin that throws is logged and the others still run. */
  public void log(Exchange exchange) {
    forEach(
        p -> {
          try {
            p.log(exchange);
          } catch (RuntimeException e) {
            LOG.warn("plugin log phase failed: {}", e.toString());
          }
        });
  }

  private void forEach(Consumer<Plugin> action) {
    for (int i = 0; i < global.size(); i++) {
      action.accept(global.get(i).plugin());
    }
    for (int i = 0; i < effective.size(); i++) {
      action.accept(effective.get(i).plugin());
    }
  }
}
