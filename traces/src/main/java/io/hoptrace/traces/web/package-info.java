/** The waterfall page and its JSON API, servable by the JDK HTTP server or the admin port. */
@NullMarked
package io.hoptrace.traces.web;

import org.jspecify.annotations.NullMarked;
