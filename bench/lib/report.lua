-- Prints one machine-readable line at the end of a wrk run; bench/run.sh parses it.
-- Latency values are microseconds, as wrk records them.
local report = {}

function report.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "HOPBENCH requests=%d duration_us=%d bytes=%d err_connect=%d err_read=%d err_write=%d " ..
    "err_status=%d err_timeout=%d p50=%d p90=%d p99=%d p999=%d max=%d mean=%.1f\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end

return report
