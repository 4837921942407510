-- wrk script: publish a small message per request to hookd and count the
-- answers by status (202 accepted, 503 shed, anything else).
-- Environment: HOOKD_TOKEN (bearer token), HOOKD_APP (app uid or id).
-- Each thread keeps its own counters; done() adds them up and prints one line
-- "publish: accepted=A shed503=S other=O" that run.sh reads.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   accepted, shed, other = 0, 0, 0
   wrk.method = "POST"
   wrk.path = "/api/v1/app/" .. os.getenv("HOOKD_APP") .. "/msg"
   wrk.headers["Authorization"] = "Bearer " .. os.getenv("HOOKD_TOKEN")
   wrk.headers["Content-Type"] = "application/json"
   wrk.body = '{"eventType":"bench.event","payload":{"note":"hookd benchmark","n":1}}'
end

function response(status, headers, body)
   if status == 202 then
      accepted = accepted + 1
   elseif status == 503 then
      shed = shed + 1
   else
      other = other + 1
   end
end

function done(summary, latency, requests)
   local a, s, o = 0, 0, 0
   for _, t in ipairs(threads) do
      a = a + t:get("accepted")
      s = s + t:get("shed")
      o = o + t:get("other")
   end
   io.write(string.format("publish: accepted=%d shed503=%d other=%d\n", a, s, o))
end
