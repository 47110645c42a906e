package io.hoptrace.traces.web;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecentSpanLinesTest {
  @Test
  void add_range_keepsACopy_theCallerMayReuseItsBuffer() {
    RecentSpanLines recent = new RecentSpanLines(4);
    byte[] buffer = new byte[64];
    List<String> expected = new ArrayList<>();
    // Lines of changing lengths through the same buffer: slots are reused, shorter and longer.
    String[] lines = {
      "a", "a much longer line {\"k\":\"v\"}", "bb", "ccc", "x".repeat(60), "d", "ee"
    };
    for (String line : lines) {
      Arrays.fill(buffer, (byte) '#');
      byte[] text = line.getBytes(UTF_8);
      System.arraycopy(text, 0, buffer, 2, text.length);
      recent.add(buffer, 2, 2 + text.length);
      Arrays.fill(buffer, (byte) '!'); // the writer reuses its buffer for the next batch
      expected.add(line);
    }
    assertThat(recent.snapshot()).containsExactlyElementsOf(expected.subList(3, 7));
  }

  @Test
  void add_hugeLineThenShortOnes_keepsEachLineExactly() {
    RecentSpanLines recent = new RecentSpanLines(2);
    recent.add("y".repeat(100_000));
    recent.add("short");
    recent.add("s"); // into the huge line's slot
    assertThat(recent.snapshot()).containsExactly("short", "s");
    assertThat(recent.snapshot().get(1)).hasSize(1);
  }

  @Test
  void add_rangeOutsideTheArray_isRejected() {
    RecentSpanLines recent = new RecentSpanLines(2);
    assertThatThrownBy(() -> recent.add(new byte[4], 2, 5))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> recent.add(new byte[4], 3, 2))
        .isInstanceOf(IndexOutOfBoundsException.class);
    assertThat(recent.snapshot()).isEmpty();
  }

  /**
   * The point of the slots: a steady stream of lines allocates nothing once every slot has held a
   * line, so the page's lines do not churn the old generation (a ring of the lines' own arrays
   * allocated each line: ~4 MB for these 10,000 lines).
   */
  @Test
  void add_steadyStream_allocatesNothingOnceTheSlotsExist() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    RecentSpanLines recent = new RecentSpanLines(100);
    byte[] buffer = new byte[512];
    Arrays.fill(buffer, (byte) 'z');
    for (int i = 0; i < 100; i++) recent.add(buffer, 0, 400 + i % 8); // every slot exists
    long before = threads.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < 10_000; i++) recent.add(buffer, 0, 380 + i % 20);
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertThat(allocated).isLessThan(64 * 1024);
    assertThat(recent.snapshot()).hasSize(100).allSatisfy(line -> assertThat(line).startsWith("z"));
  }
}
