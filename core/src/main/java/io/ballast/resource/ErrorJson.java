package io.ballast.resource;

import java.util.Map;

/** APISIX's error body, {@code {"error_msg": "..."}}, used by every Ballast endpoint. */
public final class ErrorJson {

  private ErrorJson() {}

  public static byte[] of(String message) {
    return Json.mapper().writeValueAsBytes(Map.of("error_msg", message));
  }

  /** The {@code error_msg} of {@code body}; empty when the body is not such an object. */
  public static String messageOf(byte[] body) {
    try {
      return Json.mapper().readTree(body).path("error_msg").asString("");
    } catch (RuntimeException e) {
      return "";
    }
  }
}
