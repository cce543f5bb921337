package io.ballast.controlplane;

import java.util.Optional;

/**
 * The operator's answer, given with {@code --lineage=}, when a control plane's store holds another
 * lineage than storage's newest export: which of the two wins. Consulted only in that case.
 */
public enum LineageChoice {
  /** No flag: a conflict pauses exports until the operator decides. */
  UNDECIDED(""),
  /** Take storage's export, replacing the store's content; the store joins storage's lineage. */
  STORAGE("storage"),
  /** Keep the store; its next export is numbered above storage's and its lineage replaces it. */
  STORE("store");

  private final String flagValue;

  LineageChoice(String flagValue) {
    this.flagValue = flagValue;
  }

  /** How the operator writes it: {@code --lineage=storage}. */
  public String flag() {
    return "--lineage=" + flagValue;
  }

  /** {@code storage} or {@code store}; anything else is empty. */
  public static Optional<LineageChoice> ofFlagValue(String value) {
    for (LineageChoice choice : values()) {
      if (choice != UNDECIDED && choice.flagValue.equals(value)) {
        return Optional.of(choice);
      }
    }
    return Optional.empty();
  }
}
