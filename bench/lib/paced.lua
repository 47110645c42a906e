-- Fixed rate: each wrk thread hands out send slots 1/rate apart to its connections (delay()), so
-- the total rate stays at BENCH_RATE req/s whatever the latency, as long as enough connections are
-- free. wrk's timer has millisecond resolution; the slot schedule keeps the long-run rate exact.
-- wrk measures each latency from the moment the request is written, after the delay.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")
local ffi = require("ffi")

ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local target = os.getenv("BENCH_TARGET")
if target and target ~= "" then
  wrk.path = target
  wrk.headers["Host"] = target:match("^https?://([^/]+)")
end

local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
local rate = tonumber(os.getenv("BENCH_RATE") or "2000")
local interval_ms = 1000 / (rate / threads)
local next_slot = nil

function delay()
  local now = now_ms()
  if next_slot == nil or next_slot < now then
    next_slot = now -- behind schedule (or first call): never burst to catch up
  end
  local wait = next_slot - now
  next_slot = next_slot + interval_ms
  return math.floor(wait + 0.5)
end

done = report.done
