package io.ballast.service.proxy.health;

/**
 * Makes the exception for a bad field, naming the owning resource; the proxy's {@code Fields} fits
 * as {@code fields::invalid}. An interface rather than {@code Fields} itself so that this package
 * does not need the proxy package's internals.
 */
@FunctionalInterface
public interface FieldErrors {

  /** {@code field} is the full path inside the resource, e.g. {@code checks.active.timeout}. */
  IllegalArgumentException invalid(String field, String problem);
}
