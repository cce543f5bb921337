package io.ballast.controlplane.admin;

/**
 * One entry of APISIX's {@code deployment.admin.admin_key}: a key and what it may do.
 *
 * @param name the entry's name, for people; never used to authenticate
 * @param key the secret a client presents; never printed
 */
public record AdminKey(String name, String key, Role role) {

  /** APISIX's two roles: {@code admin} reads and writes, {@code viewer} only reads (GET). */
  public enum Role {
    ADMIN,
    VIEWER;

    public String id() {
      return name().toLowerCase();
    }
  }

  public AdminKey {
    if (key == null || key.isBlank()) {
      throw new IllegalArgumentException("admin key '" + name + "' is empty");
    }
    if (role == null) {
      throw new IllegalArgumentException("admin key '" + name + "' has no role");
    }
  }

  /** Never the key itself: records print every component by default. */
  @Override
  public String toString() {
    return "AdminKey[name=" + name + ", role=" + role.id() + "]";
  }
}
