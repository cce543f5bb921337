package io.ballast.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * Where storage-testkit's build put the server programs: the S3Proxy and S3Mock jars (copied from
 * Maven Central) and Azurite (installed from the pinned package-lock.json with npm ci).
 */
final class TestServers {

  private static final String RESOURCE = "test-servers.properties";
  private static final Properties PATHS = load();

  private TestServers() {}

  static Path s3proxyJar() {
    return existing("s3proxy.jar");
  }

  static Path s3mockJar() {
    return existing("s3mock.jar");
  }

  static Path azuriteBlob() {
    return existing("azurite.blob");
  }

  private static Path existing(String name) {
    Path path = Path.of(PATHS.getProperty(name));
    if (!Files.exists(path)) {
      throw new IllegalStateException(
          name
              + " is missing at "
              + path
              + "; storage-testkit's build installs it (mvn -pl storage-testkit -am"
              + " generate-resources, without -DskipTests)");
    }
    return path;
  }

  private static Properties load() {
    try (InputStream in = TestServers.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from storage-testkit's jar");
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
