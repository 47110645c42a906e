-- Closed loop like closed.lua, but every request has a path of its own: /r/<row>/<thread>-<n>,
-- so a span line can be matched with the request that caused it (bench/lib/ring-links.sh).
-- BENCH_RATE set: paced like paced.lua instead (send slots 1/rate apart).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

local counter = 0
local prefix = wrk.path
id = "0"

function setup(thread)
  thread:set("id", tostring(math.random(100000, 999999)))
end

function request()
  counter = counter + 1
  return wrk.format(nil, prefix .. "/" .. id .. "-" .. counter)
end

local rate = tonumber(os.getenv("BENCH_RATE") or "0")
if rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } numbered_timespec;
    int clock_gettime(int clk_id, numbered_timespec *tp);
  ]]
  local ts = ffi.new("numbered_timespec")
  local interval_ms = 1000 / rate
  local next_slot = nil
  function delay()
    ffi.C.clock_gettime(1, ts)
    local now = tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
    if next_slot == nil or next_slot < now then next_slot = now end
    local wait = next_slot - now
    next_slot = next_slot + interval_ms
    return math.floor(wait + 0.5)
  end
end

done = report.done
