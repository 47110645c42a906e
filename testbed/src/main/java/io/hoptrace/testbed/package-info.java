/**
 * The accuracy testbed (docs/accuracy.md): toy services that propagate no trace header, each behind
 * its own in-process hoptrace, under open-loop Poisson load. The apps record the ground truth
 * (which inbound request each call was made for, and what trace id each callee received); the
 * {@link io.hoptrace.testbed.Scorer} joins it with the span logs.
 */
@NullMarked
package io.hoptrace.testbed;

import org.jspecify.annotations.NullMarked;
