package io.ballast.service.config;

import io.ballast.config.ConfigNode;
import io.ballast.controlplane.admin.AdminKey;
import io.ballast.seal.Keyring;
import io.ballast.seal.Sealing;
import io.ballast.snapshot.FallbackCpConfig;
import io.ballast.snapshot.StorageBlock;
import io.ballast.storage.filesystem.FilesystemStorageProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code apisix.data_encryption}, with APISIX's keys and defaults: {@code enable_encrypt_fields}
 * (true) and {@code keyring} (APISIX's two published values). The first keyring entry seals, every
 * entry opens. An empty {@code keyring} turns sealing off, as in APISIX.
 *
 * @param enabled {@code enable_encrypt_fields}
 * @param keyring the entries, in order; never printed
 * @param keyringDefaulted whether {@code keyring} was left out (APISIX's public values apply)
 */
public record DataEncryption(boolean enabled, List<String> keyring, boolean keyringDefaulted) {

  /**
   * APISIX's default keyring (its {@code config-default.yaml}): published, so what it seals anyone
   * can open. Refused for sealing wherever the sealed values leave the host (see {@link
   * #requireNotPublic}).
   */
  static final List<String> APISIX_DEFAULT_KEYRING =
      List.of("qeddd145sfvddff3", "edd1c9f0985e76a2");

  /** APISIX refuses shorter entries; Ballast derives its key from the entry, so longer is fine. */
  private static final int MIN_ENTRY_LENGTH = 16;

  public DataEncryption {
    keyring = List.copyOf(keyring);
  }

  /** Reads {@code apisix.data_encryption}; {@code apisix} may be empty. */
  public static DataEncryption parse(ConfigNode apisix) {
    ConfigNode block = apisix.childOrEmpty("data_encryption");
    block.rejectUnknownKeys(Set.of("enable_encrypt_fields", "keyring"));
    boolean enabled = block.bool("enable_encrypt_fields", true);
    if (!block.has("keyring")) {
      return new DataEncryption(enabled, APISIX_DEFAULT_KEYRING, true);
    }
    List<String> keyring = new ArrayList<>();
    List<Object> entries = block.list("keyring");
    for (int i = 0; i < entries.size(); i++) {
      Object entry = entries.get(i);
      String key = "keyring[" + i + "]";
      if (entry == null || entry instanceof Map<?, ?> || entry instanceof List<?>) {
        throw block.error(key, "must be a string");
      }
      String text = entry.toString();
      if (text.length() < MIN_ENTRY_LENGTH) {
        throw block.error(
            key, "must be at least " + MIN_ENTRY_LENGTH + " characters, not " + text.length());
      }
      keyring.add(text);
    }
    return new DataEncryption(enabled, keyring, false);
  }

  /** Whether this node seals the secrets it stores: on, with a keyring. */
  public boolean seals() {
    return enabled && !keyring.isEmpty();
  }

  /** What the node does with secrets: seal and open, only open, or neither (no keyring). */
  public Sealing sealing() {
    return keyring.isEmpty() ? Sealing.off() : Sealing.with(Keyring.of(keyring), enabled);
  }

  /**
   * Refuses to seal with a published key where the sealed values reach other hosts: through a conf
   * server that does not listen on loopback, or storage that is not a local folder. On a laptop
   * (everything on 127.0.0.1 and a local folder) APISIX's defaults stay usable, as in APISIX;
   * elsewhere sealing with them would only look like protection.
   *
   * @param exposedBy what sends the sealed values off the host, e.g. {@code fallback_cp.aws_s3};
   *     empty when nothing does
   */
  public void requireNotPublic(ConfigNode apisix, Optional<String> exposedBy) {
    if (!seals() || exposedBy.isEmpty() || !APISIX_DEFAULT_KEYRING.contains(keyring.get(0))) {
      return;
    }
    throw apisix
        .childOrEmpty("data_encryption")
        .error(
            "keyring[0]",
            "is APISIX's published default"
                + (keyringDefaulted ? " (keyring is not set)" : "")
                + ": anyone can open what it seals, and "
                + exposedBy.get()
                + " sends it off this host; set your own keyring on this node and its data planes");
  }

  /**
   * What carries a node's sealed values to other hosts, for {@link #requireNotPublic}: only a node
   * that holds configuration seals; its conf server streams every snapshot to whoever connects, its
   * export puts them in a bucket others read, and an Admin API beyond loopback answers GETs to
   * viewer keys, which may read sealed values but not rewrite them. Admin keys do not count: they
   * can rewrite every secret anyway.
   */
  static Optional<String> exposure(
      NodeConfig.Role role, Listen confServer, AdminConfig admin, FallbackCpConfig fallback) {
    if (!role.holdsConfiguration()) {
      return Optional.empty();
    }
    if (role == NodeConfig.Role.CONTROL_PLANE && !confServer.isLoopback()) {
      return Optional.of("deployment.role_control_plane.conf_server.listen " + confServer);
    }
    Optional<String> offHost =
        fallback == null
            ? Optional.empty()
            : fallback.storages().stream()
                .filter(storage -> !storage.backend().equals(FilesystemStorageProvider.NAME))
                .map(StorageBlock::path)
                .findFirst();
    if (offHost.isPresent()) {
      return offHost;
    }
    if (!admin.listen().isLoopback()
        && admin.keys().stream().anyMatch(key -> key.role() == AdminKey.Role.VIEWER)) {
      return Optional.of("a viewer key on deployment.admin.admin_listen " + admin.listen());
    }
    return Optional.empty();
  }

  /** Never prints the keyring. */
  @Override
  public String toString() {
    return "DataEncryption[enable_encrypt_fields="
        + enabled
        + ", keyring="
        + keyring.size()
        + " entries"
        + (keyringDefaulted ? " (APISIX's default)" : "")
        + "]";
  }
}
