/** The MySQL observer: packet framing, one CLIENT span per query or prepared-statement execute. */
@NullMarked
package io.hoptrace.proxy.tcp.mysql;

import org.jspecify.annotations.NullMarked;
