-- bench/get.lua: wrk script for authenticated GETs of PATHS, a
-- space-separated list taken in turn (environment: TOKEN, PATHS).  With
-- VARY_TO set (a date and "T", e.g. 2026-12-06T), each request gets "&to="
-- that day at an hour of its wrk thread and a minute and second of its
-- own, so that no two of a thread's 3,600 consecutive requests of a path,
-- and no two threads, ask the same period: no kept availability answer
-- can serve them (the uncached figure).
local paths = {}
for p in string.gmatch(os.getenv("PATHS"), "%S+") do
	paths[#paths + 1] = p
end
local i = 0
local n = 0
local vary = os.getenv("VARY_TO")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }
local threads = 0

function setup(thread)
	thread:set("hour", threads)
	threads = threads + 1
end

function request()
	i = i % #paths + 1
	if vary == nil or vary == "" then
		return wrk.format("GET", paths[i], headers)
	end
	n = n + 1
	return wrk.format("GET", paths[i] .. "&to=" .. vary ..
	    string.format("%02d:%02d:%02dZ", hour or 0, math.floor(n / 60) % 60,
	    n % 60), headers)
end
