-- stream_bench.lua - wrk script for bench/stream_bench.sh: each request
-- asks for a random 64 KiB byte range of one of the library's tracks
-- (arguments: the session cookie "ms_sid=...", then "ID:SIZE" pairs), as
-- audio elements seeking around do, all in one browser session.
-- wrk counts socket errors and statuses >= 400 (a 416 would be one).
local tracks = {}
local cookie = ""

function init(args)
  cookie = args[1]
  for i = 2, #args do
    local id, size = args[i]:match("(%d+):(%d+)")
    tracks[#tracks + 1] = { id = id, size = tonumber(size) }
  end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local t = tracks[math.random(#tracks)]
  local first = math.random(0, math.max(t.size - 65536, 0))
  local last = math.min(first + 65535, t.size - 1)
  return wrk.format("GET", "/api/tracks/" .. t.id .. "/audio",
                    { ["Range"] = "bytes=" .. first .. "-" .. last,
                      ["Cookie"] = cookie })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk errors: connect %d, read %d, write %d, timeout %d, " ..
                         "status %d\n", e.connect, e.read, e.write, e.timeout, e.status))
  io.write(string.format("latency p50 %.1f ms, p99 %.1f ms\n",
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
