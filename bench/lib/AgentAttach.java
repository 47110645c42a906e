import com.sun.tools.attach.VirtualMachine;

/**
 * Loads a native agent into a running JVM with its options passed verbatim (bench/lib/asprof.sh:
 * async-profiler's start and stop). {@code jcmd PID JVMTI.agent_load} would parse the options'
 * {@code key=value} pairs as its own arguments.
 *
 * <pre>java bench/lib/AgentAttach.java PID LIBRARY OPTIONS</pre>
 */
public final class AgentAttach {
  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: java AgentAttach.java PID LIBRARY OPTIONS");
      System.exit(2);
    }
    VirtualMachine vm = VirtualMachine.attach(args[0]);
    try {
      vm.loadAgentPath(args[1], args[2]);
    } finally {
      vm.detach();
    }
  }

  private AgentAttach() {}
}
