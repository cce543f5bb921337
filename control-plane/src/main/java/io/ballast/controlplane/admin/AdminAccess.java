package io.ballast.controlplane.admin;

import io.ballast.resource.Cidr;
import java.util.List;

/**
 * Who may use the Admin API: the clients' addresses ({@code deployment.admin.allow_admin}) and the
 * keys they present ({@code admin_key}, with their roles).
 *
 * @param keys the accepted keys; at least one when {@code keyRequired}
 * @param allowed the client addresses served; an empty list serves nobody, as in APISIX
 * @param keyRequired APISIX's {@code admin_key_required}; when false every client allowed by
 *     address is an admin, whatever key it presents
 */
public record AdminAccess(List<AdminKey> keys, List<Cidr> allowed, boolean keyRequired) {

  public AdminAccess {
    keys = List.copyOf(keys);
    allowed = List.copyOf(allowed);
    if (keyRequired && keys.isEmpty()) {
      throw new IllegalArgumentException(
          "the Admin API needs at least one key in deployment.admin.admin_key[].key");
    }
  }
}
