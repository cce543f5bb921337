package io.ballast.dataplane;

import io.ballast.config.ConfigLoader;
import io.ballast.config.EnvReference;
import io.ballast.resource.InvalidResourceException;
import io.ballast.resource.Json;
import io.ballast.resource.Resource;
import io.ballast.resource.ResourceSet;
import io.ballast.resource.ResourceType;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.TokenStreamLocation;
import tools.jackson.databind.JsonNode;

/**
 * APISIX's standalone configuration file, {@code conf/apisix.yaml} or {@code conf/apisix.json}:
 * top-level lists of resources ({@code routes}, {@code services}, {@code upstreams}, {@code
 * consumers}, {@code ssls}, {@code global_rules}, {@code plugin_configs}, {@code plugin_metadata})
 * read into one validated {@link ResourceSet}.
 *
 * <p>As in APISIX, {@code ${{VAR}}} and {@code ${{VAR:=default}}} are replaced in the raw text
 * before it is parsed, and a YAML file counts only once it ends with the line {@code #END}: editors
 * and copy tools write files in pieces, and a file without the marker is taken as half-written.
 * JSON needs no marker: a truncated JSON document does not parse.
 */
public final class StandaloneFile {

  /** The two file formats APISIX's {@code config_provider} names. */
  public enum Format {
    YAML("apisix.yaml"),
    JSON("apisix.json");

    private final String defaultName;

    Format(String defaultName) {
      this.defaultName = defaultName;
    }

    /** The file APISIX reads in its {@code conf/} folder. */
    public String defaultName() {
      return defaultName;
    }
  }

  /** The file cannot be served; the message names the file, the line or key path, and why. */
  public static class InvalidFileException extends RuntimeException {
    InvalidFileException(String message) {
      super(message);
    }
  }

  /** A YAML file without its closing {@code #END}: still being written, not wrong. */
  public static final class IncompleteFileException extends InvalidFileException {
    IncompleteFileException(String message) {
      super(message);
    }
  }

  // APISIX looks for "#END" followed by nothing but white space at the end of the file.
  private static final Pattern END_MARKER = Pattern.compile("(?m)^#END\\s*\\z");

  private StandaloneFile() {}

  /**
   * Parses and validates the text of a standalone file.
   *
   * @param fileName names the file in every error message
   * @param env the environment; answers null for an unset variable
   * @throws IncompleteFileException a YAML file that does not end with {@code #END}
   * @throws InvalidFileException anything else that stops the file from being served
   */
  public static ResourceSet parse(
      String text, String fileName, Format format, Function<String, String> env) {
    if (format == Format.YAML && !END_MARKER.matcher(text).find()) {
      throw new IncompleteFileException(
          fileName + ": does not end with the line #END yet; taken as still being written");
    }
    Substituted substituted = substitute(text, fileName, env);
    JsonNode document =
        format == Format.YAML ? readYaml(substituted, fileName) : readJson(substituted, fileName);
    if (document == null || document.isNull() || document.isMissingNode()) {
      return ResourceSet.empty();
    }
    if (!document.isObject()) {
      throw new InvalidFileException(
          fileName + ": the top level must be a mapping of resource kinds to lists");
    }
    return resources(document, fileName);
  }

  private static ResourceSet resources(JsonNode document, String fileName) {
    ResourceSet.Builder builder = ResourceSet.builder();
    for (Map.Entry<String, JsonNode> section : document.properties()) {
      String key = section.getKey();
      ResourceType type =
          ResourceType.fromPlural(key)
              .orElseThrow(
                  () ->
                      new InvalidFileException(
                          fileName
                              + ": "
                              + key
                              + ": unknown key; expected routes, services, upstreams,"
                              + " consumers, ssls, global_rules, plugin_configs or"
                              + " plugin_metadata"));
      JsonNode list = section.getValue();
      if (list.isNull()) {
        continue;
      }
      if (!list.isArray()) {
        throw new InvalidFileException(fileName + ": " + key + ": must be a list of objects");
      }
      for (int i = 0; i < list.size(); i++) {
        String where = fileName + ": " + key + "[" + i + "]";
        JsonNode value = list.get(i);
        if (!value.isObject()) {
          throw new InvalidFileException(where + ": must be an object");
        }
        String id = id(type, value);
        try {
          Resource resource = Resource.parse(type, id, value);
          builder.add(resource);
        } catch (InvalidResourceException e) {
          throw new InvalidFileException(where + ": " + e.getMessage());
        }
      }
    }
    try {
      return builder.build();
    } catch (InvalidResourceException e) {
      // The message names the referring resource and field, e.g. route '1': service_id: ….
      throw new InvalidFileException(fileName + ": " + e.getMessage());
    }
  }

  /** The id as APISIX writes it: a string or a number; consumers are keyed by username. */
  private static String id(ResourceType type, JsonNode value) {
    JsonNode id = value.get(type.idField());
    if (id == null || !(id.isString() || id.isIntegralNumber())) {
      return null; // Resource.parse names the missing field
    }
    return id.asString();
  }

  /** The text after substitution, and whether any reference was replaced. */
  private record Substituted(String text, boolean replacedAny) {}

  private static Substituted substitute(
      String text, String fileName, Function<String, String> env) {
    Matcher m = EnvReference.PATTERN.matcher(text);
    StringBuilder out = new StringBuilder(text.length());
    boolean replacedAny = false;
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(lookup(text, m, fileName, env)));
      replacedAny = true;
    }
    m.appendTail(out);
    return new Substituted(out.toString(), replacedAny);
  }

  /** One reference's value; errors name the variable and line, never a value. */
  private static String lookup(
      String text, Matcher m, String fileName, Function<String, String> env) {
    try {
      return EnvReference.value(m.group(1), env);
    } catch (IllegalArgumentException e) {
      throw new InvalidFileException(
          fileName + " line " + lineOf(text, m.start()) + ": " + e.getMessage());
    }
  }

  private static int lineOf(String text, int offset) {
    int line = 1;
    for (int i = 0; i < offset; i++) {
      if (text.charAt(i) == '\n') {
        line++;
      }
    }
    return line;
  }

  private static JsonNode readYaml(Substituted substituted, String fileName) {
    if (substituted.text().codePointCount(0, substituted.text().length())
        > ConfigLoader.MAX_YAML_CODE_POINTS) {
      throw new InvalidFileException(
          fileName
              + ": too large: more than "
              + ConfigLoader.MAX_YAML_CODE_POINTS
              + " characters (64 MiB), the most a YAML file may hold");
    }
    Object document;
    try {
      document = ConfigLoader.plainYaml().load(substituted.text());
    } catch (MarkedYAMLException e) {
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String line = mark == null ? "" : " line " + (mark.getLine() + 1);
      // The problem text never quotes the document, so no substituted secret reaches the log.
      String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
      throw new InvalidFileException(fileName + line + ": not valid YAML: " + problem);
    } catch (YAMLException e) {
      throw new InvalidFileException(fileName + ": not valid YAML");
    }
    return document == null ? null : Json.mapper().valueToTree(document);
  }

  private static JsonNode readJson(Substituted substituted, String fileName) {
    try {
      return Json.mapper().readTree(substituted.text());
    } catch (JacksonException e) {
      TokenStreamLocation at = e.getLocation();
      String line = at == null ? "" : " line " + at.getLineNr();
      // Jackson quotes the offending token, which may be a substituted secret.
      String detail = substituted.replacedAny() ? "" : ": " + e.getOriginalMessage();
      throw new InvalidFileException(fileName + line + ": not valid JSON" + detail);
    }
  }
}
