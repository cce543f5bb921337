package io.ballast.testkit;

/**
 * A storage server running as a separate process on one loopback port: what every server of the
 * testkit can be asked. {@link #close()} kills it by PID.
 */
public abstract class StorageServer implements AutoCloseable {

  protected final ServerProcess process;

  protected StorageServer(ServerProcess process) {
    this.process = process;
  }

  public int port() {
    return process.port();
  }

  public long pid() {
    return process.pid();
  }

  /** SIGKILL, then waits until the process is gone. */
  public void kill() {
    process.kill();
  }

  /** SIGTERM, so the server can flush; SIGKILL after 10 s. */
  public void stop() {
    process.stop();
  }

  /** Kills the server if it runs and starts it again on the same port, with the same data. */
  public void restart() {
    process.restart();
  }

  public String describeLog(int lines) {
    return process.describeLog(lines);
  }

  @Override
  public void close() {
    process.close();
  }

  @Override
  public String toString() {
    return process.toString();
  }
}
