-- Signing through the real form: each connection GETs the pledge page (session cookie and
-- CSRF token), then POSTs the form with a new email; a 302 to .../thanks is an
-- acknowledged signature, whose email is written to <outdir>/acked-<thread>.txt so that
-- bench/surge.py can check each one is stored exactly once.
-- Arguments: run prefix, output directory, "&commitments=1&commitments=2" (the required).
-- Run with one connection per thread: responses then answer the thread's last request.
package.path = debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua;" .. package.path
local report = require("report")

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  prefix, outdir, commitments = args[1], args[2], args[3] or ""
  path = wrk.path
  pending = nil
  last = nil
  sent, acked, failed = 0, 0, 0
  ackfile = io.open(outdir .. "/acked-" .. tid .. ".txt", "w")
  sentfile = io.open(outdir .. "/sent-" .. tid .. ".txt", "w")
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  if pending then
    local form = pending
    pending = nil
    sent = sent + 1
    local email = prefix .. "-" .. tid .. "-" .. sent .. "@example.org"
    last = email
    sentfile:write(email, "\n")
    sentfile:flush()
    local body = "csrf_token=" .. urlencode(form.token)
      .. "&name=Bench+Signer+" .. tid .. "+" .. sent
      .. "&email=" .. urlencode(email)
      .. "&country=KE&role=man&organization=&visibility=anonymous"
      .. "&show_role=y&show_role_proposed=on&publication=now&personal_note=&consent=y"
      .. commitments
    return wrk.format("POST", path, {
      ["Cookie"] = form.cookie,
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Origin"] = "http://" .. wrk.host .. ":" .. wrk.port,
    }, body)
  end
  last = nil
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if last == nil then
    local cookie = headers["Set-Cookie"] or ""
    local session = cookie:match("(session=[^;]+)")
    local token = body:match('name="csrf_token"[^>]-value="([^"]+)"')
    if status == 200 and session and token then
      pending = { cookie = session, token = token }
    else
      failed = failed + 1
    end
    return
  end
  local location = headers["Location"] or ""
  if status == 302 and location:match("/thanks") then
    acked = acked + 1
    ackfile:write(last, "\n")
    ackfile:flush()
  else
    failed = failed + 1
  end
end

done = function(summary, latency, requests)
  local total_acked, total_failed = 0, 0
  for _, thread in ipairs(threads) do
    total_acked = total_acked + thread:get("acked")
    total_failed = total_failed + thread:get("failed")
  end
  report.line(summary, latency, { acked = total_acked, failed = total_failed })
end
