-- Residents register for an event, each with an address of their own (no JavaScript:
-- a plain form POST with the CSRF token of the session whose cookie is sent).
-- Arguments: event slug, CSRF token, session cookie, a word unique to this run.
dofile("report.lua")

local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local function encode(text)
  return (string.gsub(text, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init(args)
  slug = args[1]
  csrf = encode(args[2])
  run = args[4]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = args[3]
end

function request()
  counter = counter + 1
  local who = run .. "-" .. tid .. "-" .. counter
  local body = "csrf_token=" .. csrf ..
    "&contact_name=Bewoner+" .. who ..
    "&contact_email=" .. encode("r" .. who .. "@bench.example") ..
    "&people-0-name=Bewoner+" .. who ..
    "&people-0-meal=&pay_method=door&submit=register"
  return wrk.format(nil, "/events/" .. slug .. "/register", nil, body)
end
