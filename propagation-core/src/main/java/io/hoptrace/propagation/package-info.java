/**
 * Header codecs, the composite extractor and the injector; carriers are reached through constant
 * getters and setters.
 */
@NullMarked
package io.hoptrace.propagation;

import org.jspecify.annotations.NullMarked;
