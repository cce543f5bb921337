package io.ballast.config;

/**
 * A configuration file that cannot work, reported as the file, the key path and what is wrong:
 * {@code conf/config.yaml: deployment.fallback_cp.aws_s3.resource_bucket: is required}.
 */
public final class ConfigException extends RuntimeException {

  private final String file;
  private final String keyPath;
  private final String problem;

  public ConfigException(String file, String keyPath, String problem) {
    this(file, keyPath, problem, null);
  }

  public ConfigException(String file, String keyPath, String problem, Throwable cause) {
    super(file + ": " + (keyPath.isEmpty() ? "" : keyPath + ": ") + problem, cause);
    this.file = file;
    this.keyPath = keyPath;
    this.problem = problem;
  }

  public String file() {
    return file;
  }

  public String keyPath() {
    return keyPath;
  }

  public String problem() {
    return problem;
  }
}
