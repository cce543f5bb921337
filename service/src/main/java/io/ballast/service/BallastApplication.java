package io.ballast.service;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import io.ballast.config.ConfigException;
import io.ballast.config.ConfigLoader;
import io.ballast.config.ConfigNode;
import io.ballast.controlplane.LineageChoice;
import io.ballast.service.config.IgnoredKeys;
import io.ballast.service.config.NodeConfig;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * {@code java -jar ballast.jar [-c conf/config.yaml] [--debug] [--lineage=storage|store]}. The file
 * is read and checked before anything starts. Whatever stops the node from starting (a bad file, a
 * storage block its backend refuses, a port in use) ends the process with exit code 2 and one line
 * on stderr naming the file and key path, or the listener's key and address; {@code --debug} adds
 * the stack trace. {@code --lineage} is the operator's answer when a control plane's store and
 * storage's newest export belong to different lineages (see {@link LineageChoice}). The node runs
 * until the process is stopped; a shutdown hook stops its parts in reverse order.
 *
 * <p>No Spring application context: the node is a handful of parts wired by {@link Node}, and
 * Spring Boot's start-up machinery cost more than half a second for nothing a node used. Its
 * launcher still packs the executable jar.
 */
public final class BallastApplication {

  /** The exit code of a node that could not start, whatever the reason. */
  static final int CANNOT_START = 2;

  private static final String USAGE =
      "usage: java -jar ballast.jar [-c conf/config.yaml] [--debug] [--lineage=storage|store]";

  private static final String LINEAGE_FLAG = "--lineage=";

  /** Spring Boot's way to set a logger's level, which Ballast's users and scripts already use. */
  private static final String LEVEL_PROPERTY = "logging.level.";

  /**
   * Netty registers its JFR events whenever JFR is available: some 80 classes and a few hundred
   * milliseconds of CPU at start (measured on 2 cores), for events no recording asks for unless
   * someone profiles the node, who can set {@code -Dio.netty.jfr.enabled=true}.
   */
  private static final String NETTY_JFR = "io.netty.jfr.enabled";

  private BallastApplication() {}

  public static void main(String[] args) throws InterruptedException {
    // Before any Netty class is loaded: Netty reads it once.
    if (System.getProperty(NETTY_JFR) == null) {
      System.setProperty(NETTY_JFR, "false");
    }
    Path file = Path.of("conf/config.yaml");
    boolean debug = false;
    LineageChoice lineage = LineageChoice.UNDECIDED;
    for (int i = 0; i < args.length; i++) {
      if ((args[i].equals("-c") || args[i].equals("--config")) && i + 1 < args.length) {
        file = Path.of(args[++i]);
      } else if (args[i].equals("--debug")) {
        debug = true;
      } else if (args[i].startsWith(LINEAGE_FLAG)) {
        String value = args[i].substring(LINEAGE_FLAG.length());
        Optional<LineageChoice> choice = LineageChoice.ofFlagValue(value);
        if (choice.isEmpty()) {
          System.err.println(
              "ballast: "
                  + args[i]
                  + ": expected "
                  + LineageChoice.STORAGE.flag()
                  + " or "
                  + LineageChoice.STORE.flag());
          System.exit(CANNOT_START);
        }
        lineage = choice.get();
      } else {
        System.err.println(USAGE);
        System.exit(CANNOT_START);
      }
    }
    // Libraries that log through java.util.logging go to the same console, in the same format.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    applyLevelProperties();
    Node node;
    try {
      ConfigNode root = ConfigLoader.load(file);
      NodeConfig config = NodeConfig.parse(root, hostName());
      IgnoredKeys.log(root);
      node = Node.start(config, root, lineage);
    } catch (RuntimeException | Error e) {
      System.err.println(failureLine(e));
      if (debug) {
        e.printStackTrace();
      }
      System.exit(CANNOT_START);
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

  /**
   * The one line a failed start prints: a configuration error's own words (file, key path,
   * problem), wherever it was wrapped, or else the outermost message, which names what failed.
   */
  static String failureLine(Throwable error) {
    Throwable cause = error;
    while (!(cause instanceof ConfigException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof ConfigException) {
      return "ballast: configuration error: " + oneLine(cause.getMessage());
    }
    String message = error.getMessage() == null ? error.toString() : error.getMessage();
    return "ballast: cannot start: " + oneLine(message);
  }

  private static String oneLine(String text) {
    return text.strip().replaceAll("\\s*\\R\\s*", " ");
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
