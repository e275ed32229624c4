-- Reports wrk's summary as one JSON line (read by bench/wrk.py, which takes the run's
-- length and its error counts from wrk's own lines: Debian's wrk 4.1 has no
-- summary.duration, and its summary.errors does not count bad statuses).
local report = {}

function report.line(summary, latency, extra)
  local fields = {
    string.format('"requests":%d', summary.requests),
    string.format('"mean_us":%f', latency.mean),
    string.format('"p95_us":%d', latency:percentile(95)),
  }
  for name, value in pairs(extra or {}) do
    table.insert(fields, string.format('"x_%s":%d', name, value))
  end
  io.write("WRKJSON {" .. table.concat(fields, ",") .. "}\n")
end

done = function(summary, latency, requests)
  report.line(summary, latency)
end

return report
