package io.ballast.chaos;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The node configuration files, in the forms API7's documentation gives, with the storage block of
 * the cluster's {@link ClusterStorage}. The keys are the ones the service reads; only the values
 * are parameters.
 */
public final class Configs {

  public static final String CONFIG_BUCKET = "ballast-config";
  public static final String RESOURCE_BUCKET = "ballast-resources";

  /**
   * The cluster's {@code apisix.data_encryption.keyring}, on the CP and every DP: the CP exports to
   * a blob store, where APISIX's published keyring is refused.
   */
  public static final String KEYRING = "chaos-cluster-keyring-0001";

  private Configs() {}

  /**
   * The PEM files of a mutual-TLS channel: the CA both sides trust, the conf server's pair and a
   * data plane's pair (its CN names its gateway group).
   */
  public record MutualTls(
      Path caCert, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {}

  /** API7 dashboard form: {@code fallback_cp} at the top level, exporting every second. */
  public static String controlPlane(
      Path nodeDir,
      ClusterStorage storage,
      String adminKey,
      int adminPort,
      int confPort,
      int statusPort) {
    return controlPlane(
        nodeDir, storage, adminKey, adminPort, confPort, statusPort, Optional.empty());
  }

  /** As above; with {@code tls}, the conf server speaks TLS and asks for client certificates. */
  public static String controlPlane(
      Path nodeDir,
      ClusterStorage storage,
      String adminKey,
      int adminPort,
      int confPort,
      int statusPort,
      Optional<MutualTls> tls) {
    String confServerTls =
        tls.map(
                files ->
                    """
                          cert: %s
                          cert_key: %s
                          client_ca_cert: %s
                    """
                        .formatted(files.serverCert(), files.serverKey(), files.caCert()))
            .orElse("");
    return """
        deployment:
          role: control_plane
          admin:
            admin_key:
              - name: admin
                key: %s
                role: admin
            admin_listen:
              ip: 127.0.0.1
              port: %d
          role_control_plane:
            conf_server:
              listen: 127.0.0.1:%d
        %sapisix:
          status:
            ip: 127.0.0.1
            port: %d
          data_encryption:
            keyring: [%s]
        ballast:
          data_dir: %s/data
        fallback_cp:
        %s  cron_spec: '@every 1s'
        """
        .formatted(
            adminKey,
            adminPort,
            confPort,
            confServerTls,
            statusPort,
            KEYRING,
            nodeDir,
            indent(storage.controlPlaneBlock(), "  "));
  }

  /** API7 gateway form: follows the CP, with storage as the fallback under {@code deployment}. */
  public static String dataPlane(
      Path nodeDir, ClusterStorage storage, int confPort, int proxyPort, int statusPort) {
    return dataPlane(nodeDir, storage, confPort, proxyPort, statusPort, Optional.empty());
  }

  /** As above; with {@code tls}, over {@code https://} with a client certificate. */
  public static String dataPlane(
      Path nodeDir,
      ClusterStorage storage,
      int confPort,
      int proxyPort,
      int statusPort,
      Optional<MutualTls> tls) {
    String certs =
        tls.map(
                files ->
                    """
                      certs:
                        cert: %s
                        cert_key: %s
                        trusted_ca_cert: %s
                    """
                        .formatted(files.clientCert(), files.clientKey(), files.caCert()))
            .orElse("");
    return """
        deployment:
          role: data_plane
          role_data_plane:
            config_provider: control_plane
            control_plane:
              host:
                - %s://127.0.0.1:%d
              heartbeat_interval: 1s
        %s  fallback_cp:
        %s    poll_interval: 1s
        apisix:
          node_listen:
            - ip: 127.0.0.1
              port: %d
          status:
            ip: 127.0.0.1
            port: %d
          data_encryption:
            keyring: [%s]
        ballast:
          data_dir: %s/data
        """
        .formatted(
            tls.isPresent() ? "https" : "http",
            confPort,
            certs,
            indent(storage.block(), "    "),
            proxyPort,
            statusPort,
            KEYRING,
            nodeDir);
  }

  /**
   * API7's data-plane configuration for control-plane outages: {@code config_provider: yaml} with
   * {@code fallback_cp}, which means storage only.
   */
  public static String standaloneDataPlane(
      Path nodeDir, ClusterStorage storage, int proxyPort, int statusPort) {
    return standaloneDataPlane(nodeDir, storage.block(), proxyPort, statusPort);
  }

  /** As above, with {@code storageBlock} in place of the cluster storage's block. */
  public static String standaloneDataPlane(
      Path nodeDir, String storageBlock, int proxyPort, int statusPort) {
    return """
        deployment:
          role: data_plane
          role_data_plane:
            config_provider: yaml
          fallback_cp:
        %s    poll_interval: 1s
        apisix:
          node_listen:
            - ip: 127.0.0.1
              port: %d
          status:
            ip: 127.0.0.1
            port: %d
          data_encryption:
            keyring: [%s]
        ballast:
          data_dir: %s/data
        """
        .formatted(indent(storageBlock, "    "), proxyPort, statusPort, KEYRING, nodeDir);
  }

  /**
   * APISIX's standalone file mode: {@code config_provider: yaml} without {@code fallback_cp}, the
   * routes read from {@code apisixYaml} and followed as it changes.
   */
  public static String fileDataPlane(Path nodeDir, Path apisixYaml, int proxyPort, int statusPort) {
    return """
        deployment:
          role: data_plane
          role_data_plane:
            config_provider: yaml
        apisix:
          node_listen:
            - ip: 127.0.0.1
              port: %d
          status:
            ip: 127.0.0.1
            port: %d
        ballast:
          data_dir: %s/data
          standalone_file: %s
        """
        .formatted(proxyPort, statusPort, nodeDir, apisixYaml);
  }

  /** {@code block} with every line indented by {@code indent}, ending in a newline. */
  private static String indent(String block, String indent) {
    return indent + block.strip().replace("\n", "\n" + indent) + "\n";
  }
}
