/** The Redis observer: incremental RESP2/RESP3 parsing, one CLIENT span per command. */
@NullMarked
package io.hoptrace.proxy.tcp.redis;

import org.jspecify.annotations.NullMarked;
