package io.ballast.gateway.plugin;

import java.util.UUID;

/**
 * APISIX's {@code request-id}: keeps the client's request id or makes one (a random UUID), sends it
 * upstream and, unless {@code include_in_response} is false, back to the client.
 */
final class RequestIdPlugin implements Plugin {

  private final String headerName;
  private final boolean includeInResponse;

  private RequestIdPlugin(String headerName, boolean includeInResponse) {
    this.headerName = headerName;
    this.includeInResponse = includeInResponse;
  }

  @Override
  public Outcome rewrite(Exchange exchange) {
    if (!exchange.upstreamHeaders().contains(headerName)) {
      exchange.upstreamHeaders().set(headerName, UUID.randomUUID().toString());
    }
    return Outcome.proceed();
  }

  @Override
  public void responseHead(Exchange exchange, ResponseHead response) {
    String id = exchange.upstreamHeaders().get(headerName);
    if (includeInResponse && id != null && !response.headers().contains(headerName)) {
      response.headers().set(headerName, id);
    }
  }

  static final class Factory implements PluginFactory {
    @Override
    public String name() {
      return "request-id";
    }

    @Override
    public int priority() {
      return 12015;
    }

    @Override
    public Plugin compile(PluginConfig config, PluginContext context) {
      config.allowOnly("header_name", "include_in_response", "algorithm");
      config.oneOf("algorithm", "uuid", "uuid");
      String header = config.string("header_name", "X-Request-Id");
      if (header.isBlank()) {
        throw config.invalid("header_name", "must not be blank");
      }
      return new RequestIdPlugin(header, config.bool("include_in_response", true));
    }
  }
}
