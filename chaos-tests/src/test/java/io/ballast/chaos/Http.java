package io.ballast.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A tiny blocking HTTP client with short timeouts. A request that gets no answer at all (connection
 * refused, timeout) is a {@link Response} with status -1: during fault injection that is an
 * observation to count, not an error to propagate.
 */
public final class Http {

  public static final int NO_RESPONSE = -1;

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(3);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final HttpClient CLIENT =
      HttpClient.newBuilder()
          .connectTimeout(CONNECT_TIMEOUT)
          .version(HttpClient.Version.HTTP_1_1)
          .build();

  private Http() {}

  /** Status and body of one exchange; status {@link #NO_RESPONSE} with the failure as body. */
  public record Response(int status, String body) {

    public boolean isSuccess() {
      return status >= 200 && status < 300;
    }

    public JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (RuntimeException e) {
        throw new AssertionError("expected a JSON body, got status " + status + ": " + body, e);
      }
    }

    @Override
    public String toString() {
      return status == NO_RESPONSE ? "no response (" + body + ")" : status + " " + body;
    }
  }

  public static Response get(String url) {
    return send(request(url).GET().build());
  }

  /** GET with the Admin API key. */
  public static Response get(String url, String apiKey) {
    return send(request(url).header("X-API-KEY", apiKey).GET().build());
  }

  /** GET with the given request headers. */
  public static Response get(String url, Map<String, String> headers) {
    HttpRequest.Builder request = request(url);
    headers.forEach(request::header);
    return send(request.GET().build());
  }

  /** Any method with the Admin API key and a JSON body ({@code null} for none). */
  public static Response send(String method, String url, String apiKey, String jsonBody) {
    return send(
        request(url)
            .header("X-API-KEY", apiKey)
            .header("Content-Type", "application/json")
            .method(
                method,
                jsonBody == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(jsonBody))
            .build());
  }

  public static Response put(String url, String apiKey, String jsonBody) {
    return send(
        request(url)
            .header("X-API-KEY", apiKey)
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(jsonBody))
            .build());
  }

  public static JsonNode parse(String json) {
    return JSON.readTree(json);
  }

  private static HttpRequest.Builder request(String url) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(REQUEST_TIMEOUT);
  }

  private static Response send(HttpRequest request) {
    try {
      HttpResponse<String> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      return new Response(response.statusCode(), response.body());
    } catch (IOException e) {
      return new Response(NO_RESPONSE, request.method() + " " + request.uri() + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Response(NO_RESPONSE, request.method() + " " + request.uri() + ": interrupted");
    }
  }
}
