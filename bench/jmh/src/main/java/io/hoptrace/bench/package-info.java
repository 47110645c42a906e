/** JMH microbenchmarks of the hot path. Run: {@code java -jar bench/jmh/target/benchmarks.jar}. */
@NullMarked
package io.hoptrace.bench;

import org.jspecify.annotations.NullMarked;
