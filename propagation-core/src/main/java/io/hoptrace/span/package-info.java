/** The span model and its encoders (the Zipkin v2 JSON span line). */
@NullMarked
package io.hoptrace.span;

import org.jspecify.annotations.NullMarked;
