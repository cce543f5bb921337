package io.ballast.gateway.plugin;

import com.github.benmanes.caffeine.cache.Ticker;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * APISIX's {@code limit-count} with the local policy: at most {@code count} requests per key in a
 * fixed window of {@code time_window} seconds that starts at the key's first request, as
 * resty.limit.count counts. Counters belong to the owning route (or to the {@code group} shared by
 * several routes) and its settings, and survive a configuration swap that keeps both.
 */
final class LimitCountPlugin implements Plugin {

  static final String NAME = "limit-count";

  /** Live keys one counter holds at most; see {@link LimitTable}. */
  static final int MAX_KEYS = 65_536;

  /** Everything that decides a counter; the routes of one group must agree on all of it. */
  record Settings(
      int count,
      int timeWindow,
      String keyType,
      String key,
      LimitRejection rejection,
      boolean showQuotaHeader,
      boolean allowDegradation) {}

  /** The quota left after a request, for the X-RateLimit-* headers. */
  record Quota(int limit, long remaining, long resetSeconds) {}

  /** One key's window: when it ends and how many requests it has seen (capped at count + 1). */
  private record Window(long endNanos, long used) {}

  /** The counters of one route's (or group's) settings; what survives a configuration swap. */
  static final class Counters {
    private final LimitTable<Window> windows;

    private Counters(Settings settings, Ticker ticker) {
      long windowNanos = TimeUnit.SECONDS.toNanos(settings.timeWindow());
      LimitTable.Rule<Window> rule =
          new LimitTable.Rule<>() {
            @Override
            public Window next(Window previous, long now) {
              if (previous == null || nanosUntilIdle(previous, now) <= 0) {
                return new Window(now + windowNanos, 1);
              }
              // Past the limit the window stays as it is: no growth, no overflow.
              return previous.used() > settings.count()
                  ? previous
                  : new Window(previous.endNanos(), previous.used() + 1);
            }

            @Override
            public long nanosUntilIdle(Window window, long now) {
              return window.endNanos() - now;
            }
          };
      this.windows = new LimitTable<>(rule, MAX_KEYS, ticker);
    }

    /** How many keys are held, for tests of the memory bound. */
    int size() {
      return windows.size();
    }
  }

  /** The groups claimed in one configuration, to refuse a group configured two ways. */
  static final class Groups {
    private record Claim(String owner, Settings settings) {}

    private final Map<String, Claim> claims = new ConcurrentHashMap<>();

    void claim(String group, Settings settings, PluginConfig config) {
      Claim first = claims.putIfAbsent(group, new Claim(config.owner(), settings));
      if (first != null && !first.settings().equals(settings)) {
        throw config.invalid(
            "group",
            "group '"
                + group
                + "' is configured differently by "
                + first.owner()
                + "; every limit-count of a group needs the same settings");
      }
    }
  }

  private final Settings settings;
  private final LimitKey key;
  private final Counters counters;
  private final boolean perRoute;
  private final Ticker ticker;

  private LimitCountPlugin(
      Settings settings, LimitKey key, Counters counters, boolean perRoute, Ticker ticker) {
    this.settings = settings;
    this.key = key;
    this.counters = counters;
    this.perRoute = perRoute;
    this.ticker = ticker;
  }

  /** How many keys this limit holds now, for tests of the memory bound. */
  int keysHeld() {
    return counters.size();
  }

  @Override
  public Outcome access(Exchange exchange) {
    String counted = key.of(exchange);
    if (perRoute) {
      // A consumer's limit applies per route, as APISIX keys it by the merged route and consumer.
      counted = exchange.routeId() + '\u0000' + counted;
    }
    long now = ticker.read();
    Window window = counters.windows.update(counted, now);
    boolean allowed = window.used() <= settings.count();
    if (settings.showQuotaHeader()) {
      long reset = (window.endNanos() - now + 999_999_999L) / 1_000_000_000L;
      long remaining = allowed ? settings.count() - window.used() : 0;
      exchange.attribute(this, new Quota(settings.count(), remaining, reset));
    }
    return allowed ? Outcome.proceed() : Outcome.reply(settings.rejection().reply());
  }

  @Override
  public void responseHead(Exchange exchange, ResponseHead response) {
    Quota quota = exchange.attribute(this, Quota.class);
    if (quota != null) {
      response.headers().set("X-RateLimit-Limit", quota.limit());
      response.headers().set("X-RateLimit-Remaining", quota.remaining());
      response.headers().set("X-RateLimit-Reset", quota.resetSeconds());
    }
  }

  static final class Factory extends LimitFactory {

    Factory() {
      this(Ticker.systemTicker());
    }

    /** {@code ticker} instead of {@link System#nanoTime}, for tests that move time by hand. */
    Factory(Ticker ticker) {
      super(NAME, 1002, ticker);
    }

    @Override
    Plugin compileLocal(PluginConfig config, PluginContext context) {
      config.allowOnly(
          "count",
          "time_window",
          "window_type",
          "key_type",
          "key",
          "rejected_code",
          "rejected_msg",
          "policy",
          "allow_degradation",
          "show_limit_quota_header",
          "group");
      if ("sliding".equals(config.string("window_type", "fixed"))) {
        throw config.invalid(
            "window_type", "'sliding' is not supported: Ballast counts in fixed windows");
      }
      config.oneOf("window_type", "fixed", "fixed");
      int count = config.requiredInteger("count", 1, Integer.MAX_VALUE);
      int timeWindow = config.requiredInteger("time_window", 1, Integer.MAX_VALUE);
      LimitKey key = LimitKey.compile(config, "remote_addr", "var", "var_combination", "constant");
      Settings settings =
          new Settings(
              count,
              timeWindow,
              config.string("key_type", "var"),
              config.string("key", "remote_addr"),
              LimitRejection.read(config),
              config.bool("show_limit_quota_header", true),
              config.bool("allow_degradation", false));
      Counters counters;
      boolean perRoute;
      if (config.has("group")) {
        String group = config.requiredString("group");
        context
            .perConfiguration(NAME + ".groups", Groups.class, Groups::new)
            .claim(group, settings, config);
        counters = counters(context, "group " + group + '\u0000' + settings, settings);
        perRoute = false;
      } else {
        counters = counters(context, config.owner() + '\u0000' + settings, settings);
        perRoute = context.scope() == PluginContext.Scope.CONSUMER;
      }
      return new LimitCountPlugin(settings, key, counters, perRoute, ticker);
    }

    private Counters counters(PluginContext context, String stateKey, Settings settings) {
      return context.state(NAME, stateKey, Counters.class, () -> new Counters(settings, ticker));
    }
  }
}
