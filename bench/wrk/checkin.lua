-- The door: an organiser's phone checks people in, one after another, as htmx does.
-- Arguments: event id, file of attendee ids (one a line), CSRF token, session cookie.
dofile("report.lua")

local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  event_id = args[1]
  ids = {}
  for line in io.lines(args[2]) do
    table.insert(ids, line)
  end
  wrk.method = "POST"
  wrk.body = ""
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["HX-Request"] = "true"
  wrk.headers["X-CSRFToken"] = args[3]
  wrk.headers["Cookie"] = args[4]
  counter = tid * 97
end

function request()
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  return wrk.format(nil, "/manage/events/" .. event_id .. "/attendees/" .. id .. "/check-in")
end
