package io.ballast.storage.azure;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * The provider's own keys of a {@code fallback_cp.azure_blob} block (the container and prefix keys
 * are read by {@link io.ballast.snapshot.FallbackCpConfig}).
 *
 * @param accountName the storage account; {@code null} only with a connection string, which names
 *     it
 * @param endpoint the blob service endpoint; {@code null} only with a connection string, which
 *     names it
 * @param credentials how requests are authorised
 * @param timeout the longest one request may take
 */
public record AzureBlobConfig(
    String accountName, URI endpoint, Credentials credentials, Duration timeout) {

  public AzureBlobConfig {
    Objects.requireNonNull(credentials, "credentials");
    Objects.requireNonNull(timeout, "timeout");
    if (endpoint == null && !(credentials instanceof Credentials.ConnectionString)) {
      throw new IllegalArgumentException("an endpoint is required without a connection string");
    }
  }

  /** How requests are authorised; exactly one per block. No variant prints its secret. */
  public sealed interface Credentials {

    /** {@code account_key}: the account's base64 shared key. */
    record AccountKey(String key) implements Credentials {
      public AccountKey {
        Objects.requireNonNull(key, "key");
      }

      @Override
      public String toString() {
        return "AccountKey[***]";
      }
    }

    /** {@code connection_string}: endpoint, account and key or SAS in one string. */
    record ConnectionString(String value) implements Credentials {
      public ConnectionString {
        Objects.requireNonNull(value, "value");
      }

      @Override
      public String toString() {
        return "ConnectionString[***]";
      }
    }

    /** {@code sas_token}: a shared access signature, with or without its leading {@code ?}. */
    record SasToken(String token) implements Credentials {
      public SasToken {
        Objects.requireNonNull(token, "token");
      }

      @Override
      public String toString() {
        return "SasToken[***]";
      }
    }

    /**
     * None of the above: azure-identity's DefaultAzureCredential (environment, workload or managed
     * identity, Azure CLI, …).
     */
    record DefaultChain() implements Credentials {}
  }
}
