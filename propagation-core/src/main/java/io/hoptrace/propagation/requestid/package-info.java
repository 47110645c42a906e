/** {@code X-Request-Id}: validation, UUID-seeded trace ids and fast generation. */
@NullMarked
package io.hoptrace.propagation.requestid;

import org.jspecify.annotations.NullMarked;
