package io.ballast.gateway.plugin;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;

/**
 * APISIX's {@code limit-req} with the local policy: a leaky bucket per key as resty.limit.req keeps
 * it. Requests above {@code rate} per second but within {@code burst} wait until the rate allows
 * them (unless {@code nodelay}); requests beyond the burst are rejected and not counted.
 */
final class LimitReqPlugin implements Plugin {

  static final String NAME = "limit-req";

  /** Live keys one limiter holds at most; see {@link LimitTable}. */
  static final int MAX_KEYS = 65_536;

  /** Delays shorter than this are not worth a timer; APISIX does not sleep for them either. */
  private static final double MIN_DELAY_SECONDS = 0.001;

  private static final double NANOS_PER_SECOND = 1e9;

  /** Everything that decides a bucket, so that a swap keeping the settings keeps the buckets. */
  record Settings(
      double rate,
      double burst,
      String keyType,
      String key,
      LimitRejection rejection,
      boolean nodelay,
      boolean allowDegradation) {}

  /**
   * One key's bucket: the requests in excess of the rate at {@code lastNanos}. {@code rejected}
   * says whether the request that produced this state was refused (which left the bucket as it
   * was).
   */
  private record Bucket(double excess, long lastNanos, boolean rejected) {}

  /** The buckets of one owner's settings; what survives a configuration swap. */
  static final class Buckets {
    private final LimitTable<Bucket> buckets;

    private Buckets(Settings settings, Ticker ticker) {
      LimitTable.Rule<Bucket> rule =
          new LimitTable.Rule<>() {
            @Override
            public Bucket next(Bucket previous, long now) {
              if (previous == null) {
                return new Bucket(0, now, false);
              }
              double excess = Math.max(drained(previous, now) + 1, 0);
              if (excess > settings.burst()) {
                return previous.rejected()
                    ? previous
                    : new Bucket(previous.excess(), previous.lastNanos(), true);
              }
              return new Bucket(excess, now, false);
            }

            @Override
            public long nanosUntilIdle(Bucket bucket, long now) {
              // Idle once the next request would find an empty bucket, exactly as a new key does.
              // The cast saturates at Long.MAX_VALUE for a bucket that drains (almost) never.
              long drainNanos = (long) ((bucket.excess() + 1) / settings.rate() * NANOS_PER_SECOND);
              return drainNanos - Math.abs(now - bucket.lastNanos());
            }

            private double drained(Bucket bucket, long now) {
              double elapsed = Math.abs(now - bucket.lastNanos()) / NANOS_PER_SECOND;
              return bucket.excess() - settings.rate() * elapsed;
            }
          };
      this.buckets = new LimitTable<>(rule, MAX_KEYS, ticker);
    }

    /** How many keys are held, for tests of the memory bound. */
    int size() {
      return buckets.size();
    }
  }

  private final Settings settings;
  private final LimitKey key;
  private final Buckets buckets;
  private final boolean perRoute;
  private final Ticker ticker;

  private LimitReqPlugin(
      Settings settings, LimitKey key, Buckets buckets, boolean perRoute, Ticker ticker) {
    this.settings = settings;
    this.key = key;
    this.buckets = buckets;
    this.perRoute = perRoute;
    this.ticker = ticker;
  }

  /** How many keys this limit holds now, for tests of the memory bound. */
  int keysHeld() {
    return buckets.size();
  }

  @Override
  public Outcome access(Exchange exchange) {
    String limited = key.of(exchange);
    if (perRoute) {
      // A consumer's limit applies per route, as APISIX keys it by the merged route and consumer.
      limited = exchange.routeId() + '\u0000' + limited;
    }
    Bucket bucket = buckets.buckets.update(limited, ticker.read());
    if (bucket.rejected()) {
      return Outcome.reply(settings.rejection().reply());
    }
    double delaySeconds = bucket.excess() / settings.rate();
    if (settings.nodelay() || delaySeconds < MIN_DELAY_SECONDS) {
      return Outcome.proceed();
    }
    return Outcome.delay(Duration.ofNanos((long) (delaySeconds * NANOS_PER_SECOND)));
  }

  static final class Factory extends LimitFactory {

    Factory() {
      this(Ticker.systemTicker());
    }

    /** {@code ticker} instead of {@link System#nanoTime}, for tests that move time by hand. */
    Factory(Ticker ticker) {
      super(NAME, 1001, ticker);
    }

    @Override
    Plugin compileLocal(PluginConfig config, PluginContext context) {
      config.allowOnly(
          "rate",
          "burst",
          "key_type",
          "key",
          "rejected_code",
          "rejected_msg",
          "nodelay",
          "allow_degradation",
          "policy");
      double rate = config.requiredNumber("rate", 0, false);
      double burst = config.requiredNumber("burst", 0, true);
      LimitKey key = LimitKey.compile(config, null, "var", "var_combination");
      Settings settings =
          new Settings(
              rate,
              burst,
              config.string("key_type", "var"),
              config.string("key", null),
              LimitRejection.read(config),
              config.bool("nodelay", false),
              config.bool("allow_degradation", false));
      Buckets buckets =
          context.state(
              NAME,
              config.owner() + '\u0000' + settings,
              Buckets.class,
              () -> new Buckets(settings, ticker));
      boolean perRoute = context.scope() == PluginContext.Scope.CONSUMER;
      return new LimitReqPlugin(settings, key, buckets, perRoute, ticker);
    }
  }
}
