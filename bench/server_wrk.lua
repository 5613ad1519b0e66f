-- server_wrk.lua - wrk script for bench/server_bench.sh: POSTs a JPEG file
-- (first argument) to /api/frame, spreading the requests over the session
-- cookies given as the remaining arguments (so per-session rate limits
-- model many browsers), and counts non-200 answers as errors.
local body, cookies, idx = nil, {}, 0
local bad = 0

function init(args)
  local f = assert(io.open(args[1], "rb"))
  body = f:read("*a")
  f:close()
  for i = 2, #args do cookies[#cookies + 1] = args[i] end
end

function request()
  idx = idx + 1
  local h = { ["Content-Type"] = "image/jpeg" }
  if #cookies > 0 then h["Cookie"] = cookies[(idx % #cookies) + 1] end
  return wrk.format("POST", nil, h, body)
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non-2xx/3xx (wrk counts them): %d\n", summary.errors.status))
end
