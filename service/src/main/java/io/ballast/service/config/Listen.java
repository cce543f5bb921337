package io.ballast.service.config;

/** An address a server binds: {@code ip} and {@code port} as APISIX writes them. */
public record Listen(String ip, int port) {

  @Override
  public String toString() {
    return ip + ":" + port;
  }
}
