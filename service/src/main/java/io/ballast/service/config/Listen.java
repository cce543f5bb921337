package io.ballast.service.config;

import io.ballast.resource.Cidr;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** An address a server binds: {@code ip} and {@code port} as APISIX writes them. */
public record Listen(String ip, int port) {

  /**
   * Whether only this host can connect: an IP literal in 127.0.0.0/8 or {@code ::1}. A host name
   * never counts, since what it resolves to is not this file's to decide.
   */
  public boolean isLoopback() {
    try {
      Cidr.parse(ip);
      // A literal, checked above: InetAddress parses it without asking DNS.
      return ip.indexOf('/') < 0 && InetAddress.getByName(ip).isLoopbackAddress();
    } catch (IllegalArgumentException | UnknownHostException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return ip + ":" + port;
  }
}
