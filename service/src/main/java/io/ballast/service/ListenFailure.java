package io.ballast.service;

import java.util.Locale;

/**
 * A listener that could not be opened, told in one line by its key and address: {@code
 * apisix.node_listen 0.0.0.0:9080: address already in use}. Reactor Netty's own message ("Failed to
 * bind on [...]") drops the reason, and the reason, several causes deep, is worded differently by
 * the NIO and the native transports; the common ones are named here in the same words.
 */
final class ListenFailure {

  private ListenFailure() {}

  /**
   * @param key the APISIX key of the address, e.g. {@code apisix.node_listen}
   * @param address the address as written, {@code ip:port}
   */
  static IllegalStateException of(String key, Object address, Throwable error) {
    return new IllegalStateException(key + " " + address + ": " + reason(error), error);
  }

  static String reason(Throwable error) {
    Throwable deepest = error;
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
      if (message.contains("address already in use")) {
        return "address already in use";
      }
      if (message.contains("cannot assign requested address")) {
        return "no such address on this host";
      }
      if (message.contains("permission denied")) {
        return "permission denied";
      }
      deepest = cause;
    }
    return deepest.getMessage() == null ? deepest.toString() : deepest.getMessage();
  }
}
