-- wrk script: POST pre-signed data requests, each exactly once (a nonce is never reused).
-- Each wrk thread takes every n-th line of the bodies file, so threads never share one.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path, total = args[1], tonumber(args[2])
  bodies = {}
  local i = 0
  for line in io.lines(path) do
    if i % total == id then table.insert(bodies, line) end
    i = i + 1
  end
  next_body = 1
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local body = bodies[next_body]
  next_body = next_body + 1
  if body == nil then body = bodies[1] end -- ran out: a replay, refused with 409 and counted
  return wrk.format(nil, nil, nil, body)
end
