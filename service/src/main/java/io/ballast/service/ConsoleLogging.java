package io.ballast.service;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * The node's logging, set up in code: logback's XML configurator loads some four hundred classes
 * (an XML parser among them) before the first line, a good part of a second when a data plane
 * restarts on a busy host. Found by logback through {@code META-INF/services}; {@code
 * -Dlogback.configurationFile=<file>} still replaces it with that file.
 *
 * <p>Console lines in one format. The per-request access log (logger {@code ballast.access}) is
 * written by a background thread: a proxy's event loop must not wait on a write to stdout. Lines
 * are queued, never dropped; a full queue (8192 lines) makes requests wait rather than lose lines.
 * {@code -Dlogging.level.<logger>=<level>} sets a logger's level (see {@link BallastApplication}).
 */
public final class ConsoleLogging extends ContextAwareBase implements Configurator {

  /** The system property with which logback reads a configuration file instead. */
  static final String CONFIGURATION_FILE = "logback.configurationFile";

  static final String PATTERN =
      "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %5level --- [%15.15thread] %-40.40logger{39} : %msg%n";

  static final String ACCESS_LOGGER = "ballast.access";

  private static final int ACCESS_QUEUE = 8192;

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty(CONFIGURATION_FILE) != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(context);
    console.setName("CONSOLE");
    console.setEncoder(encoder);
    console.start();

    AsyncAppender access = new AsyncAppender();
    access.setContext(context);
    access.setName("ACCESS");
    access.setQueueSize(ACCESS_QUEUE);
    access.setDiscardingThreshold(0);
    access.addAppender(console);
    access.start();
    Logger accessLogger = context.getLogger(ACCESS_LOGGER);
    accessLogger.setAdditive(false);
    accessLogger.addAppender(access);

    // With HTTP/2 on, Netty logs every failed TLS handshake at WARN with a stack trace; a scanner
    // fills the log with them. HandshakeFailureLog writes one INFO line per connection instead.
    context
        .getLogger("io.netty.handler.ssl.ApplicationProtocolNegotiationHandler")
        .setLevel(Level.ERROR);

    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(console);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
