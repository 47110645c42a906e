package io.hoptrace.proxy.demo;

/** Whether standard output is a terminal (the progress line redraws itself only there). */
final class Terminal {
  private Terminal() {}

  /**
   * Up to JDK 21 {@code System.console()} is null when stdout is redirected; from JDK 22 it is
   * never null and {@code isTerminal()} tells.
   */
  @SuppressWarnings("SystemConsoleNull") // the JDK 22+ case is handled by isTerminal() below
  static boolean isTerminal() {
    java.io.Console console = System.console();
    if (console == null) return false;
    try {
      Object terminal = java.io.Console.class.getMethod("isTerminal").invoke(console);
      return Boolean.TRUE.equals(terminal);
    } catch (ReflectiveOperationException e) {
      return true; // JDK 17..21: a non-null console is a terminal
    }
  }
}
