package io.ballast.seal;

import io.ballast.resource.InvalidResourceException;
import io.ballast.resource.ParseMode;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import java.util.Optional;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a node does with the secrets in resources ({@link SecretFields}): the control plane seals
 * them before its store sees them, so its log, its snapshots, storage, the conf-server stream and
 * every DP cache carry ciphertext only; a data plane opens them in memory when it compiles a
 * snapshot. A value in the sealed form that the keyring cannot open is refused, naming the resource
 * and field: it is never used as if the ciphertext were the secret. A plain value is taken as it is
 * (a CP with sealing off, a store written before sealing, an APISIX standalone file).
 */
public final class Sealing {

  private static final Sealing OFF = new Sealing(null, false);

  private final Keyring keyring;
  private final boolean seals;

  private Sealing(Keyring keyring, boolean seals) {
    this.keyring = keyring;
    this.seals = seals;
  }

  /** No keyring: secrets stay as written, and a sealed value is refused. */
  public static Sealing off() {
    return OFF;
  }

  /**
   * @param seal whether new values are sealed ({@code enable_encrypt_fields}); either way the
   *     keyring opens sealed values
   */
  public static Sealing with(Keyring keyring, boolean seal) {
    return new Sealing(keyring, seal);
  }

  /** Whether values are sealed before they are stored. */
  public boolean seals() {
    return seals;
  }

  /**
   * {@code resource} as the store keeps it: with sealing on, every secret sealed with the keyring's
   * first entry (a value sealed with an older entry is sealed again with the first); with it off,
   * every secret in plain text.
   *
   * @return {@code resource} itself when nothing changes
   * @throws InvalidResourceException naming the field when a sealed value cannot be opened
   */
  public Resource forStore(Resource resource) {
    return rewrite(
        resource,
        (path, value) -> {
          if (!Keyring.isSealed(value)) {
            return seals ? keyring.seal(value) : value;
          }
          Keyring.Opened opened = open(resource, path, value);
          if (seals && opened.entry() == 0) {
            return value;
          }
          return seals ? keyring.seal(opened.plaintext()) : opened.plaintext();
        });
  }

  /**
   * {@code resource} with every secret in plain text, for compiling; only ever in memory.
   *
   * @throws InvalidResourceException naming the field when a sealed value cannot be opened
   */
  public Resource opened(Resource resource) {
    return rewrite(
        resource,
        (path, value) -> Keyring.isSealed(value) ? open(resource, path, value).plaintext() : value);
  }

  /** Every resource of {@code resources} {@link #opened}; the same set when nothing is sealed. */
  public ResourceSet opened(ResourceSet resources) {
    boolean[] sealed = {false};
    resources
        .inCanonicalOrder()
        .forEach(
            resource ->
                SecretFields.rewrite(
                    resource.type(),
                    resource.value(),
                    (path, value) -> {
                      sealed[0] |= Keyring.isSealed(value);
                      return value;
                    }));
    if (!sealed[0]) {
      return resources;
    }
    ResourceSet.Builder builder = ResourceSet.builder();
    resources.inCanonicalOrder().forEach(resource -> builder.add(opened(resource)));
    return builder.build();
  }

  private Keyring.Opened open(Resource resource, String path, String value) {
    if (keyring == null) {
      throw new InvalidResourceException(
          resource.type(),
          resource.id(),
          path,
          "is sealed, and this node has no apisix.data_encryption.keyring to open it");
    }
    Optional<Keyring.Opened> opened = keyring.open(value);
    return opened.orElseThrow(
        () ->
            new InvalidResourceException(
                resource.type(),
                resource.id(),
                path,
                "is sealed with a key that no entry of apisix.data_encryption.keyring opens"));
  }

  /**
   * {@code resource} with each secret replaced by what {@code change} returns; read first without
   * copying, since most resources hold no secret, and copied only when something changes.
   */
  private Resource rewrite(Resource resource, SecretFields.Visitor change) {
    boolean[] changes = {false};
    SecretFields.rewrite(
        resource.type(),
        resource.value(),
        (path, value) -> {
          changes[0] |= !change.visit(path, value).equals(value);
          return value;
        });
    if (!changes[0]) {
      return resource;
    }
    ObjectNode copy = resource.value().deepCopy();
    SecretFields.rewrite(resource.type(), copy, change);
    // Tolerant: the resource was already read in the mode its door asks for (strict at the Admin
    // API, tolerant on replay); only secret values changed, so no field is judged again.
    return Resource.parse(resource.type(), resource.id(), copy, ParseMode.TOLERANT);
  }

  @Override
  public String toString() {
    return keyring == null ? "Sealing[off]" : "Sealing[" + (seals ? "seals" : "opens") + "]";
  }
}
