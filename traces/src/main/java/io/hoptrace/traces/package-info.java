/** Reading span logs: assembling traces, printing them, serving them, exporting them. */
@NullMarked
package io.hoptrace.traces;

import org.jspecify.annotations.NullMarked;
