-- wrk (Debian's wrk 4.x, LuaJIT) script of the benchmark's throughput steps
-- (bench/wrkrun.py, issue 17).
--
--   wrk -t T -c C -d Ds -s bench/wrk_steps.lua URL -- JOBS T
--
-- JOBS "-": the URL is requested again and again (GET /ping and the bare trivial view).
-- JOBS a file: one registration per line, "path<TAB>idempotency key<TAB>X-Forwarded-For
-- <TAB>JSON body" (a distinct household of the seeded roster each, written by the
-- harness); thread k of T walks lines k, k+T, k+2T ... and sends each once, so every
-- request is a new registration. A thread that runs out of lines stops (``exhausted``).
-- Every answer's status is counted (non-2xx separately); the ``ticket`` of each 2xx
-- answer is kept for the harness's "every acknowledged registration is stored" check.
-- done() writes one JSON document to the file named by $BENCH_WRK_OUT.

local threads = {}

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(args[2]) or 1
  statuses, tickets, n2xx, non2xx, exhausted, pos = {}, {}, 0, 0, false, 0
  jobs = nil
  if args[1] and args[1] ~= "-" then
    jobs = {}
    local i = 0
    for line in io.lines(args[1]) do
      if i % nthreads == index then
        local path, key, xff, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
        local headers = {
          ["Content-Type"] = "application/json",
          ["Idempotency-Key"] = key,
          ["X-Forwarded-For"] = xff,
        }
        jobs[#jobs + 1] = wrk.format("POST", path, headers, body)
      end
      i = i + 1
    end
  end
end

function request()
  if jobs == nil then
    return wrk.request()
  end
  pos = pos + 1
  local req = jobs[pos]
  if req == nil then
    exhausted = true
    wrk.thread:stop()
    return jobs[#jobs] or wrk.request()
  end
  return req
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 200 and status < 300 then
    n2xx = n2xx + 1
    if jobs ~= nil and body then
      local ticket = body:match('"ticket"%s*:%s*"([^"]+)"')
      if ticket then
        tickets[#tickets + 1] = ticket
      end
    end
  else
    non2xx = non2xx + 1
  end
end

local function json_list(items)
  local quoted = {}
  for i, v in ipairs(items) do
    quoted[i] = '"' .. v .. '"'
  end
  return "[" .. table.concat(quoted, ",") .. "]"
end

function done(summary, latency, requests)
  local total2xx, totalnon2xx, ran_out = 0, 0, false
  local status_all, ticket_all = {}, {}
  for _, thread in ipairs(threads) do
    total2xx = total2xx + thread:get("n2xx")
    totalnon2xx = totalnon2xx + thread:get("non2xx")
    ran_out = ran_out or thread:get("exhausted")
    for status, count in pairs(thread:get("statuses")) do
      status_all[status] = (status_all[status] or 0) + count
    end
    for _, ticket in ipairs(thread:get("tickets")) do
      ticket_all[#ticket_all + 1] = ticket
    end
  end
  local parts = {}
  for status, count in pairs(status_all) do
    parts[#parts + 1] = string.format('"%d": %d', status, count)
  end
  local e = summary.errors
  local out = assert(io.open(os.getenv("BENCH_WRK_OUT"), "w"))
  out:write(string.format(
    '{"duration_us": %d, "requests": %d, "ok": %d, "non_2xx": %d, "exhausted": %s, '
      .. '"status": {%s}, "socket_errors": {"connect": %d, "read": %d, "write": %d, '
      .. '"timeout": %d}, "latency_us": {"p50": %d, "p99": %d, "p999": %d, "max": %d, '
      .. '"mean": %.1f}, "tickets": %s}\n',
    summary.duration, summary.requests, total2xx, totalnon2xx, tostring(ran_out),
    table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    latency.mean, json_list(ticket_all)
  ))
  out:close()
end
