-- wrk script: verified GitHub-style posts, each with its own delivery id (so none is a duplicate)
-- INBOUND_SIG is the sha256= signature of the fixed body, computed by bench/inbound.sh
local counter = 0
local thread_id = 0
local body = os.getenv("INBOUND_BODY")
local sig = os.getenv("INBOUND_SIG")
local path = os.getenv("INBOUND_PATH")
local n200, nother = 0, 0

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
end

function request()
  counter = counter + 1
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["X-GitHub-Event"] = "push",
    ["X-GitHub-Hook-ID"] = "1",
    ["X-GitHub-Delivery"] = string.format("%d-%d-%d", tid or 0, counter, math.random(1, 1000000000)),
    ["X-Hub-Signature-256"] = sig,
  }, body)
end

function response(status, headers, body)
  if status == 200 then n200 = n200 + 1 else nother = nother + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("non2xx=%d\n", summary.errors.status))
end
