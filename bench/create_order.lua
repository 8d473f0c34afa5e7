-- wrk script: POST /api/v1/orders with a fresh Idempotency-Key per request, so every request
-- places a real order (prices from the catalog, stock reservation, order number, event).
-- Set by bench/run.sh through the environment: BENCH_TOKEN, BENCH_APPID, BENCH_BODY.
local counter = 0
local thread_tag = tostring({}):gsub("[^%w]", "")

local token = os.getenv("BENCH_TOKEN")
local appid = os.getenv("BENCH_APPID")
local body = os.getenv("BENCH_BODY")

request = function()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["X-WeChat-Appid"] = appid,
    ["Idempotency-Key"] = string.format("bench-%s-%d", thread_tag, counter),
  }
  return wrk.format("POST", "/api/v1/orders", headers, body)
end

local non201 = 0
response = function(status, headers, body)
  if status ~= 201 then
    non201 = non201 + 1
    if non201 <= 3 then
      io.stderr:write("unexpected " .. status .. ": " .. body .. "\n")
    end
  end
end
