/**
 * Exact links for multi-process apps: which of the app's processes owns a TCP connection, read from
 * Linux {@code /proc} alone.
 *
 * <p>{@link io.hoptrace.proxy.procfs.ProcNetTcp} finds a connection's socket inode in {@code
 * /proc/net/tcp} and {@code tcp6}; {@link io.hoptrace.proxy.procfs.ProcessTree} finds the app's
 * processes from its listening socket; {@link io.hoptrace.proxy.procfs.SocketOwnership} is the
 * façade that scans only those processes' {@code /proc/<pid>/fd} within a time budget; {@link
 * io.hoptrace.proxy.procfs.ProcessLinker} turns owners into the {@code process} link rule. Nothing
 * here throws on the races /proc is full of (processes exit, fds close): those are skipped.
 */
@NullMarked
package io.hoptrace.proxy.procfs;

import org.jspecify.annotations.NullMarked;
