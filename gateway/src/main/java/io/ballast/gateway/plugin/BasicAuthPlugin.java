package io.ballast.gateway.plugin;

import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * APISIX's {@code basic-auth}: recognises the consumer by the username and password of an {@code
 * Authorization: Basic} header (RFC 7617) and answers 401 with a {@code WWW-Authenticate} challenge
 * otherwise.
 */
final class BasicAuthPlugin implements Plugin {

  static final String NAME = "basic-auth";

  private static final String CHALLENGE = "Basic realm='.'";
  private static final String SCHEME = "basic ";

  /** A consumer and its password as UTF-8 bytes, for a comparison that does not stop early. */
  private record Account(Consumer consumer, byte[] password) {
    @Override
    public String toString() {
      return "account of " + consumer;
    }
  }

  private final boolean hideCredentials;
  private final Map<String, Account> accountsByUsername;

  private BasicAuthPlugin(boolean hideCredentials, Map<String, Account> accountsByUsername) {
    this.hideCredentials = hideCredentials;
    this.accountsByUsername = accountsByUsername;
  }

  @Override
  public Outcome rewrite(Exchange exchange) {
    List<String> values = exchange.request().headers("Authorization");
    if (values.isEmpty()) {
      return unauthorized("Missing authorization in request");
    }
    String credentials = decode(values.get(0));
    int colon = credentials == null ? -1 : credentials.indexOf(':');
    if (colon < 0) {
      return unauthorized("Invalid authorization in request");
    }
    Account account = accountsByUsername.get(credentials.substring(0, colon));
    byte[] sent = credentials.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
    // The sent password first: isEqual's time then depends on its length, not the stored one's.
    if (account == null || !MessageDigest.isEqual(sent, account.password())) {
      return unauthorized("Invalid user authorization");
    }
    if (hideCredentials) {
      exchange.upstreamHeaders().remove(HttpHeaderNames.AUTHORIZATION);
    }
    exchange.consumer(account.consumer());
    return Outcome.proceed();
  }

  /**
   * {@code user:password} from an {@code Authorization} value, or {@code null} if it is not Basic.
   */
  private static String decode(String authorization) {
    String value = authorization.strip();
    if (value.length() <= SCHEME.length()
        || !value.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      return null;
    }
    try {
      byte[] decoded = Base64.getDecoder().decode(value.substring(SCHEME.length()).strip());
      return new String(decoded, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static Outcome unauthorized(String message) {
    Reply reply = Reply.message(401, message);
    reply.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, CHALLENGE);
    return Outcome.reply(reply);
  }

  /** The usernames seen while compiling consumers, to refuse one that two consumers hold. */
  private static final class UsernameOwners {
    final Map<String, String> ownerByUsername = new HashMap<>();
  }

  /** Username to account, built once per configuration from the consumers' basic-auth objects. */
  private static final class AccountIndex {
    final Map<String, Account> accountsByUsername;

    AccountIndex(Consumers consumers) {
      Map<String, Account> index = new HashMap<>();
      for (Consumers.Credential credential : consumers.credentials(NAME)) {
        // Checked when the consumer was compiled: non-empty strings, unique usernames.
        PluginConfig config = credential.config();
        byte[] password = config.get("password").stringValue().getBytes(StandardCharsets.UTF_8);
        index.put(
            config.get("username").stringValue(), new Account(credential.consumer(), password));
      }
      this.accountsByUsername = Map.copyOf(index);
    }
  }

  static final class Factory implements PluginFactory {
    @Override
    public String name() {
      return NAME;
    }

    @Override
    public int priority() {
      return 2520;
    }

    @Override
    public Plugin compile(PluginConfig config, PluginContext context) {
      if (context.scope() == PluginContext.Scope.CONSUMER) {
        compileCredential(config, context);
        return PluginChain.NOTHING_TO_RUN;
      }
      config.allowOnly("hide_credentials", "anonymous_consumer", "realm");
      KeyAuthPlugin.refuseUnsupported(config, "anonymous_consumer");
      KeyAuthPlugin.refuseUnsupported(config, "realm");
      boolean hideCredentials = config.bool("hide_credentials", false);
      AccountIndex index =
          context.perConfiguration(
              NAME + ".index", AccountIndex.class, () -> new AccountIndex(context.consumers()));
      return new BasicAuthPlugin(hideCredentials, index.accountsByUsername);
    }

    private static void compileCredential(PluginConfig config, PluginContext context) {
      config.allowOnly("username", "password");
      String username = config.requiredString("username");
      if (username.indexOf(':') >= 0) {
        // RFC 7617: the first colon ends the username, so this one could never log in.
        throw config.invalid("username", "must not contain ':'");
      }
      config.requiredString("password");
      UsernameOwners owners =
          context.perConfiguration(NAME + ".owners", UsernameOwners.class, UsernameOwners::new);
      String other = owners.ownerByUsername.putIfAbsent(username, config.owner());
      if (other != null) {
        throw config.invalid(
            "username", "'" + username + "' is already " + other + "'s; usernames must be unique");
      }
    }
  }
}
