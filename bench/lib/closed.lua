-- Closed loop: every connection sends its next request as soon as the previous response arrives.
-- Optional: BENCH_TARGET=http://host:port/ sends absolute-form request lines (forward-proxy hop)
-- while wrk connects to the proxy port given on its command line.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

local target = os.getenv("BENCH_TARGET")
if target and target ~= "" then
  wrk.path = target
  wrk.headers["Host"] = target:match("^https?://([^/]+)")
end

done = report.done
