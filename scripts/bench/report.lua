-- wrk script: at the end, one machine-readable line for scripts/bench-scale.sh:
--   RESULT <requests> <errors> <p50 ms> <p95 ms> <p99 ms> <requests/s>
-- Errors are connection errors, timeouts and HTTP statuses of 400 and above.
--
-- With BENCH_BODIES set to files separated by ':', it POSTs them as JSON, taking turns (so that a
-- write alternates between two states and every request changes something).
local bodies = {}
local turn = 0

init = function(args)
  local files = os.getenv("BENCH_BODIES")
  if files then
    for f in string.gmatch(files, "[^:]+") do
      local h = assert(io.open(f, "r"))
      table.insert(bodies, h:read("*a"))
      h:close()
    end
  end
end

request = function()
  if #bodies == 0 then
    return wrk.format(nil)
  end
  turn = turn % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[turn])
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f %.1f\n",
    summary.requests, e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
