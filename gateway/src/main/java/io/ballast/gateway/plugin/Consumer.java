package io.ballast.gateway.plugin;

import java.util.Objects;

/**
 * An APISIX consumer: who a request is, once an authentication plugin has recognised it, and the
 * plugins its requests run besides the route's (a consumer's plugin replaces the route's plugin of
 * the same name).
 */
public record Consumer(String username, PluginChain plugins) {

  public Consumer {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(plugins, "plugins");
  }

  @Override
  public String toString() {
    // Never the plugins: their configurations hold credentials.
    return "consumer '" + username + "'";
  }
}
