package io.hoptrace.proxy.tcp;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fixed-size direct buffers, reused across connections. Confined to the selector thread except for
 * {@link #inUse()}, which tests and metrics read to prove that closed connections give their
 * buffers back.
 */
final class BufferPool {
  final int bufferSize;
  final int maxIdle;
  final ArrayDeque<ByteBuffer> idle = new ArrayDeque<>();
  final AtomicInteger inUse = new AtomicInteger();

  BufferPool(int bufferSize, int maxIdle) {
    this.bufferSize = bufferSize;
    this.maxIdle = maxIdle;
  }

  ByteBuffer acquire() {
    ByteBuffer b = idle.pollFirst();
    if (b == null) b = ByteBuffer.allocateDirect(bufferSize);
    b.clear();
    inUse.incrementAndGet();
    return b;
  }

  void release(ByteBuffer b) {
    inUse.decrementAndGet();
    // Beyond maxIdle the buffer is left to the GC: memory after a burst returns to steady state.
    if (idle.size() < maxIdle) idle.addFirst(b);
  }

  int inUse() {
    return inUse.get();
  }
}
