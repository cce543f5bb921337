package io.ballast.gateway.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.timeout.ReadTimeoutException;
import io.netty.handler.timeout.WriteTimeoutException;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.client.PrematureCloseException;

class UpstreamFailuresTest {

  /** Why a free resend exists at all: see {@link LeavingClientsTest}. */
  @Test
  void onlyRequestsThatNeverLeftOrAreIdempotentAreSentAgain() {
    Throwable beforeSend = AbortedException.beforeSend();
    Throwable closedWrite = new AbortedException(new ClosedChannelException());
    Throwable poolGaveUp = new IOException("Error while acquiring from SimpleDequePool@1");
    Throwable closedBeforeResponse = PrematureCloseException.TEST_EXCEPTION;

    assertThat(UpstreamFailures.safeToResend(beforeSend, "POST")).isTrue();
    assertThat(UpstreamFailures.safeToResend(closedWrite, "POST")).isTrue();
    assertThat(UpstreamFailures.safeToResend(poolGaveUp, "POST")).isTrue();
    assertThat(UpstreamFailures.safeToResend(closedBeforeResponse, "GET")).isTrue();
    // The POST may have reached the upstream: not repeated, as nginx does not repeat it.
    assertThat(UpstreamFailures.safeToResend(closedBeforeResponse, "POST")).isFalse();
    assertThat(UpstreamFailures.safeToResend(new AbortedException("client left"), "GET")).isFalse();
    assertThat(UpstreamFailures.safeToResend(new IOException("Connection refused"), "GET"))
        .isFalse();
  }

  @Test
  void connectReadWriteAndAcquireTimeoutsAreTimeoutsAlsoWhenWrapped() {
    assertThat(UpstreamFailures.isTimeout(new ConnectTimeoutException("connection timed out")))
        .isTrue();
    assertThat(UpstreamFailures.isTimeout(ReadTimeoutException.INSTANCE)).isTrue();
    assertThat(UpstreamFailures.isTimeout(new RuntimeException(WriteTimeoutException.INSTANCE)))
        .isTrue();
    // Reactor Netty's pool reports an acquire timeout as a java.util.concurrent one.
    assertThat(UpstreamFailures.isTimeout(new RuntimeException(new TimeoutException("acquire"))))
        .isTrue();

    assertThat(UpstreamFailures.isTimeout(new IOException("Connection refused"))).isFalse();
    assertThat(UpstreamFailures.isTimeout(PrematureCloseException.TEST_EXCEPTION)).isFalse();
  }

  @Test
  void onlyAnUnansweredRequestIsAReadTimeout() {
    assertThat(UpstreamFailures.isReadTimeout(ReadTimeoutException.INSTANCE)).isTrue();
    assertThat(UpstreamFailures.isReadTimeout(new RuntimeException(ReadTimeoutException.INSTANCE)))
        .isTrue();

    assertThat(UpstreamFailures.isReadTimeout(new ConnectTimeoutException("timed out"))).isFalse();
    assertThat(UpstreamFailures.isReadTimeout(WriteTimeoutException.INSTANCE)).isFalse();
    assertThat(UpstreamFailures.isReadTimeout(new TimeoutException("acquire"))).isFalse();
  }
}
