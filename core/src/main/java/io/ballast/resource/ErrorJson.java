package io.ballast.resource;

import java.util.Map;

/** APISIX's error body, {@code {"error_msg": "..."}}, used by every Ballast endpoint. */
public final class ErrorJson {

  private ErrorJson() {}

  public static byte[] of(String message) {
    return Json.mapper().writeValueAsBytes(Map.of("error_msg", message));
  }
}
