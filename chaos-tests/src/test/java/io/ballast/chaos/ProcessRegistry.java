package io.ballast.chaos;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every process the harness starts, so that a JVM shutdown hook can kill whatever a crashed or
 * interrupted test run left behind. Tests still kill their own nodes in @AfterEach.
 */
final class ProcessRegistry {

  private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(new Thread(ProcessRegistry::killAll, "ballast-chaos-process-reaper"));
  }

  private ProcessRegistry() {}

  static void register(Process process) {
    RUNNING.add(process);
  }

  static void unregister(Process process) {
    RUNNING.remove(process);
  }

  static Set<Process> running() {
    RUNNING.removeIf(process -> !process.isAlive());
    return Set.copyOf(RUNNING);
  }

  private static void killAll() {
    for (Process process : RUNNING) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }
}
