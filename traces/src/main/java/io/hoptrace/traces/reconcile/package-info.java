/**
 * {@code hoptrace reconcile}: re-decides every inferred link with the whole record
 * (docs/accuracy.md) and rewrites the span lines, trace ids through each moved subtree.
 */
@NullMarked
package io.hoptrace.traces.reconcile;

import org.jspecify.annotations.NullMarked;
