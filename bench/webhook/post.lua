-- wrk script: POST a recorded AdmissionReview (path in WEFT_BENCH_BODY) to
-- /mutate over keep-alive, and count answers that are not 200.
local f = assert(io.open(os.getenv("WEFT_BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["User-Agent"] = "kube-apiserver-admission"

local bad = 0
function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("bench: %d requests, %.0f/s, p50 %.3f ms, p99 %.3f ms, errors %d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
