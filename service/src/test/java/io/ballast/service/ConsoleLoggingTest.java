package io.ballast.service;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;

class ConsoleLoggingTest {

  @Test
  void rootLogsInfoToTheConsoleAndTheAccessLogGoesThroughItsOwnQueueOnly() {
    LoggerContext context = new LoggerContext();
    ExecutionStatus status = new ConsoleLogging().configure(context);

    assertThat(status).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertThat(root.getLevel()).isEqualTo(Level.INFO);
    assertThat(root.getAppender("CONSOLE")).isInstanceOf(ConsoleAppender.class);
    Logger access = context.getLogger(ConsoleLogging.ACCESS_LOGGER);
    assertThat(access.isAdditive()).isFalse();
    AsyncAppender queue = (AsyncAppender) access.getAppender("ACCESS");
    assertThat(queue.getQueueSize()).isEqualTo(8192);
    assertThat(queue.getDiscardingThreshold()).isZero();
    assertThat(queue.getAppender("CONSOLE")).isSameAs(root.getAppender("CONSOLE"));
    assertThat(
            context
                .getLogger("io.netty.handler.ssl.ApplicationProtocolNegotiationHandler")
                .getLevel())
        .isEqualTo(Level.ERROR);
    context.stop();
  }

  @Test
  void aConfigurationFileNamedOnTheCommandLineIsLeftToLogback() {
    String before = System.getProperty(ConsoleLogging.CONFIGURATION_FILE);
    System.setProperty(ConsoleLogging.CONFIGURATION_FILE, "custom-logback.xml");
    try {
      LoggerContext context = new LoggerContext();
      assertThat(new ConsoleLogging().configure(context))
          .isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
      assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext())
          .isFalse();
    } finally {
      if (before == null) {
        System.clearProperty(ConsoleLogging.CONFIGURATION_FILE);
      } else {
        System.setProperty(ConsoleLogging.CONFIGURATION_FILE, before);
      }
    }
  }
}
