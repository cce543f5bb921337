package io.ballast.gateway.plugin;

import io.ballast.resource.Cidr;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * APISIX's {@code ip-restriction}: lets only a {@code whitelist} of addresses in, or keeps a {@code
 * blacklist} out, answering {@code response_code} (403 unless set) with {@code {"message": ...}}.
 * The client is the TCP peer, APISIX's {@code remote_addr} without the real-ip module: a client
 * behind a proxy is seen as the proxy.
 */
final class IpRestrictionPlugin implements Plugin {

  private final List<Cidr> blocks;
  private final boolean whitelist;
  private final int status;
  private final String message;

  private IpRestrictionPlugin(List<Cidr> blocks, boolean whitelist, int status, String message) {
    this.blocks = blocks;
    this.whitelist = whitelist;
    this.status = status;
    this.message = message;
  }

  @Override
  public Outcome access(Exchange exchange) {
    InetAddress client = exchange.request().remoteAddress();
    boolean listed = false;
    for (Cidr block : blocks) {
      if (block.matches(client)) {
        listed = true;
        break;
      }
    }
    // A reply per refusal: later plugins (cors) add headers to the reply they are given.
    return listed == whitelist ? Outcome.proceed() : Outcome.reply(Reply.message(status, message));
  }

  static final class Factory implements PluginFactory {
    @Override
    public String name() {
      return "ip-restriction";
    }

    @Override
    public int priority() {
      return 3000;
    }

    @Override
    public Plugin compile(PluginConfig config, PluginContext context) {
      config.allowOnly("whitelist", "blacklist", "message", "response_code");
      boolean hasWhitelist = config.has("whitelist");
      if (hasWhitelist == config.has("blacklist")) {
        throw config.invalid(
            hasWhitelist ? "blacklist" : "whitelist",
            hasWhitelist
                ? "cannot be set together with whitelist"
                : "exactly one of whitelist or blacklist is required");
      }
      String key = hasWhitelist ? "whitelist" : "blacklist";
      String message = config.string("message", "Your IP address is not allowed");
      if (message.isEmpty() || message.length() > 1024) {
        throw config.invalid("message", "must be 1 to 1024 characters long");
      }
      int status = config.integer("response_code", 403, 404, 403);
      return new IpRestrictionPlugin(blocks(config, key), hasWhitelist, status, message);
    }

    private static List<Cidr> blocks(PluginConfig config, String key) {
      List<String> texts = config.strings(key, List.of());
      if (texts.isEmpty()) {
        throw config.invalid(key, "must hold at least one address or CIDR");
      }
      List<Cidr> blocks = new ArrayList<>(texts.size());
      for (int i = 0; i < texts.size(); i++) {
        try {
          blocks.add(Cidr.parse(texts.get(i)));
        } catch (IllegalArgumentException e) {
          throw config.invalid(key + "[" + i + "]", e.getMessage());
        }
      }
      return List.copyOf(blocks);
    }
  }
}
