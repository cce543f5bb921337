package io.ballast.testkit;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every process the tests start, so that a JVM shutdown hook can kill whatever a crashed or
 * interrupted test run left behind. Tests still kill their own processes when they end.
 */
public final class ProcessRegistry {

  private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(ProcessRegistry::killAll, "ballast-test-process-reaper"));
  }

  private ProcessRegistry() {}

  public static void register(Process process) {
    RUNNING.add(process);
  }

  public static void unregister(Process process) {
    RUNNING.remove(process);
  }

  /** The registered processes still alive. */
  public static Set<Process> running() {
    RUNNING.removeIf(process -> !process.isAlive());
    return Set.copyOf(RUNNING);
  }

  /** Kills a process and its children (node's Azurite may fork) and waits until it is gone. */
  public static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    unregister(process);
  }

  private static void killAll() {
    for (Process process : RUNNING) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }
}
