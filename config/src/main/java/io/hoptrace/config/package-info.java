/** Typed, immutable, validated settings from Typesafe Config. */
@NullMarked
package io.hoptrace.config;

import org.jspecify.annotations.NullMarked;
