package io.ballast.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.NodeId;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * Reads a node's YAML file into a {@link ConfigNode}, substituting APISIX-style {@code ${{VAR}}}
 * and {@code ${{VAR:=default}}} in every string value.
 *
 * <p>Substitution runs on the parsed tree rather than the raw text so that a missing variable can
 * be reported with the key path of the value that needs it. APISIX substitutes before parsing, so a
 * value written entirely as {@code ${{PORT}}} becomes whatever YAML scalar its text is ({@code
 * 9080} an integer, {@code true} a boolean); that case is re-resolved with snakeyaml's own
 * resolver. A value that only contains a variable ({@code http://${{HOST}}:9080}) stays text.
 */
public final class ConfigLoader {

  private ConfigLoader() {}

  /** Reads {@code file}, taking variables from the process environment. */
  public static ConfigNode load(Path file) {
    return load(file, System::getenv);
  }

  /** Reads {@code file}, taking variables from {@code env} (which answers null when unset). */
  public static ConfigNode load(Path file, Function<String, String> env) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file.toString(), "", "file not found", e);
    } catch (IOException | SecurityException e) {
      throw new ConfigException(file.toString(), "", "cannot be read: " + e, e);
    }
    return parse(text, file.toString(), env);
  }

  /**
   * Parses {@code yamlText} as if read from {@code fileName}, which names the source in errors. An
   * empty document is an empty root mapping.
   */
  public static ConfigNode parse(String yamlText, String fileName, Function<String, String> env) {
    Object document;
    try {
      document = plainYaml().load(yamlText);
    } catch (MarkedYAMLException e) {
      throw new ConfigException(fileName, "", describe(e), e);
    } catch (YAMLException e) {
      throw new ConfigException(fileName, "", "not valid YAML: " + e.getMessage(), e);
    }
    if (document == null) {
      return ConfigNode.root(fileName, Map.of());
    }
    if (!(document instanceof Map<?, ?> map)) {
      throw new ConfigException(
          fileName, "", "the top level must be a mapping of keys to values, not " + kind(document));
    }
    Substitution substitution = new Substitution(fileName, env);
    return ConfigNode.root(fileName, substitution.mapping(map, ""));
  }

  /**
   * The largest YAML document read, in code points. snakeyaml's default (3 MiB) refuses an APISIX
   * standalone file of some 27,000 routes; 64 Mi allows about half a million, far beyond what a
   * data plane's heap holds as routes, and still bounds a runaway file.
   */
  public static final int MAX_YAML_CODE_POINTS = 64 * 1024 * 1024;

  /**
   * A loader that builds only plain maps, lists and scalars, refuses repeated keys and keeps
   * timestamps as text, as APISIX reads YAML. Not thread-safe: one per parse.
   */
  public static Yaml plainYaml() {
    LoaderOptions options = new LoaderOptions();
    options.setCodePointLimit(MAX_YAML_CODE_POINTS);
    options.setAllowDuplicateKeys(false);
    options.setAllowRecursiveKeys(false);
    DumperOptions unused = new DumperOptions();
    return new Yaml(
        new SafeConstructor(options),
        new Representer(unused),
        unused,
        options,
        new ScalarResolver());
  }

  private static String describe(MarkedYAMLException e) {
    Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
    String problem = e.getProblem() != null ? e.getProblem() : e.getContext();
    if (mark == null) {
      return "not valid YAML: " + problem;
    }
    return "line "
        + (mark.getLine() + 1)
        + ", column "
        + (mark.getColumn() + 1)
        + ": not valid YAML: "
        + problem;
  }

  private static String kind(Object value) {
    if (value instanceof List<?>) {
      return "a list";
    }
    return "the value '" + value + "'";
  }

  /**
   * YAML 1.1's scalar types without timestamps: APISIX's YAML reader keeps {@code 2024-01-01} as
   * text, and a {@code java.util.Date} would print differently from what the user wrote.
   */
  private static final class ScalarResolver extends Resolver {
    @Override
    protected void addImplicitResolvers() {
      addImplicitResolver(Tag.BOOL, BOOL, "yYnNtTfFoO", 10);
      addImplicitResolver(Tag.INT, INT, "-+0123456789");
      addImplicitResolver(Tag.FLOAT, FLOAT, "-+0123456789.");
      addImplicitResolver(Tag.MERGE, MERGE, "<", 10);
      addImplicitResolver(Tag.NULL, NULL, "~nN\0", 10);
      addImplicitResolver(Tag.NULL, EMPTY, null, 10);
      addImplicitResolver(Tag.YAML, YAML, "!&*", 10);
    }
  }

  /** One walk over a parsed document, rebuilding it with variables substituted. */
  private static final class Substitution {
    private final String file;
    private final Function<String, String> env;
    private final Resolver resolver = new ScalarResolver();

    Substitution(String file, Function<String, String> env) {
      this.file = file;
      this.env = env;
    }

    Map<String, Object> mapping(Map<?, ?> map, String path) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach(
          (key, value) -> {
            String name = String.valueOf(key);
            out.put(name, value(value, path.isEmpty() ? name : path + "." + name));
          });
      return out;
    }

    private Object value(Object value, String path) {
      if (value instanceof Map<?, ?> map) {
        return mapping(map, path);
      }
      if (value instanceof List<?> list) {
        List<Object> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
          out.add(value(list.get(i), path + "[" + i + "]"));
        }
        return out;
      }
      if (value instanceof String text && text.contains("${{")) {
        return string(text, path);
      }
      return value;
    }

    private Object string(String text, String path) {
      Matcher m = EnvReference.PATTERN.matcher(text);
      StringBuilder out = new StringBuilder();
      boolean whole = false;
      while (m.find()) {
        whole = m.start() == 0 && m.end() == text.length();
        m.appendReplacement(out, Matcher.quoteReplacement(lookup(m.group(1), path)));
      }
      m.appendTail(out);
      String result = out.toString();
      return whole ? asScalar(result) : result;
    }

    /** The value of one reference's inside: {@code NAME} or {@code NAME:=default}. */
    private String lookup(String reference, String path) {
      try {
        return EnvReference.value(reference, env);
      } catch (IllegalArgumentException e) {
        throw new ConfigException(file, path, e.getMessage());
      }
    }

    /** The text as the YAML scalar it would have been had it been written in the file. */
    private Object asScalar(String text) {
      Tag tag = resolver.resolve(NodeId.scalar, text, true);
      if (tag.equals(Tag.STR)) {
        return text;
      }
      if (tag.equals(Tag.NULL)) {
        return null;
      }
      if (tag.equals(Tag.BOOL) || tag.equals(Tag.INT) || tag.equals(Tag.FLOAT)) {
        // The text matched a plain-scalar pattern, so it loads as exactly that one scalar.
        return plainYaml().load(text);
      }
      return text;
    }
  }
}
