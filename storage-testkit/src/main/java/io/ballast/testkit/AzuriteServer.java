package io.ballast.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Azurite's blob service on 127.0.0.1, from the npm package pinned in storage-testkit, persisting
 * to a folder. Telemetry is off. Azurite 3.35 predates the REST API version that azure-storage-blob
 * 12.33 sends, hence {@code --skipApiVersionCheck}.
 *
 * <p>Azurite saves its metadata every 5 s: a {@link #kill()} soon after a write may lose it, as the
 * machine's loss would lose an unsynced disk. {@link #stop()} flushes first.
 */
public final class AzuriteServer extends StorageServer {

  /** Azurite's well-known development account. */
  public static final String ACCOUNT_NAME = "devstoreaccount1";

  public static final String ACCOUNT_KEY =
      "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  private AzuriteServer(ServerProcess process) {
    super(process);
  }

  /** Starts a blob service whose data and log live under {@code dir}. */
  public static AzuriteServer start(Path dir) {
    int port = FreePorts.next();
    List<String> command =
        List.of(
            TestServers.azuriteBlob().toString(),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            String.valueOf(port),
            "--location",
            dir.resolve("data").toAbsolutePath().toString(),
            "--disableTelemetry",
            "--skipApiVersionCheck",
            "--loose");
    return new AzuriteServer(
        ServerProcess.start(
            "azurite", command, dir, dir.resolve("azurite.log"), port, READY_TIMEOUT));
  }

  /** The account's blob endpoint, path-style as Azurite serves it. */
  public String blobEndpoint() {
    return "http://127.0.0.1:" + process.port() + "/" + ACCOUNT_NAME;
  }

  public String connectionString() {
    return "DefaultEndpointsProtocol=http;AccountName="
        + ACCOUNT_NAME
        + ";AccountKey="
        + ACCOUNT_KEY
        + ";BlobEndpoint="
        + blobEndpoint()
        + ";";
  }
}
