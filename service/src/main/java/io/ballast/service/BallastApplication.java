package io.ballast.service;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.service.config.NodeConfig;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * {@code java -jar ballast.jar [-c conf/config.yaml]}. The file is read and checked before anything
 * starts, so a bad file ends the process with one line naming the file, the key path and the
 * problem (exit code 2); a part that cannot start (a port in use, say) ends it with one line too
 * (exit code 1). The node runs until the process is stopped; a shutdown hook stops its parts in
 * reverse order.
 *
 * <p>No Spring application context: the node is a handful of parts wired by {@link Node}, and
 * Spring Boot's start-up machinery cost more than half a second for nothing a node used. Its
 * launcher still packs the executable jar.
 */
public final class BallastApplication {

  /** Spring Boot's way to set a logger's level, which Ballast's users and scripts already use. */
  private static final String LEVEL_PROPERTY = "logging.level.";

  private BallastApplication() {}

  public static void main(String[] args) throws InterruptedException {
    Path file = Path.of("conf/config.yaml");
    for (int i = 0; i < args.length; i++) {
      if ((args[i].equals("-c") || args[i].equals("--config")) && i + 1 < args.length) {
        file = Path.of(args[++i]);
      } else {
        System.err.println("usage: java -jar ballast.jar [-c conf/config.yaml]");
        System.exit(2);
      }
    }
    // Libraries that log through java.util.logging go to the same console, in the same format.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    applyLevelProperties();
    Node node;
    try {
      ConfigNode root = ConfigLoader.load(file);
      node = Node.start(NodeConfig.parse(root, hostName()), root);
    } catch (RuntimeException e) {
      Throwable cause = e;
      while (!(cause instanceof ConfigException) && cause.getCause() != null) {
        cause = cause.getCause();
      }
      boolean config = cause instanceof ConfigException;
      System.err.println(
          "ballast: " + (config ? "configuration error: " : "cannot start: ") + message(e, cause));
      System.exit(config ? 2 : 1);
      return;
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  node.close();
                  // Drains the access log's queue: its writer is a daemon thread.
                  ((LoggerContext) LoggerFactory.getILoggerFactory()).stop();
                },
                "ballast-shutdown"));
    // The node's threads are daemons: this one keeps the process up until it is stopped.
    new CountDownLatch(1).await();
  }

  /** The configuration error's own words, or the outermost message that names what failed. */
  private static String message(RuntimeException error, Throwable cause) {
    return cause instanceof ConfigException ? cause.getMessage() : error.getMessage();
  }

  /** {@code -Dlogging.level.<logger>=<level>}, e.g. {@code -Dlogging.level.ballast.access=WARN}. */
  private static void applyLevelProperties() {
    for (String name : System.getProperties().stringPropertyNames()) {
      if (name.startsWith(LEVEL_PROPERTY)) {
        String logger = name.substring(LEVEL_PROPERTY.length());
        Level level = Level.toLevel(System.getProperty(name), null);
        if (level == null) {
          System.err.println("ballast: ignoring -D" + name + ": not a log level");
          continue;
        }
        ((Logger) LoggerFactory.getLogger(logger.equals("root") ? "ROOT" : logger)).setLevel(level);
      }
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "localhost";
    }
  }
}
