/** B3 propagation (openzipkin/b3-propagation): the single {@code b3} header and {@code X-B3-*}. */
@NullMarked
package io.hoptrace.propagation.b3;

import org.jspecify.annotations.NullMarked;
