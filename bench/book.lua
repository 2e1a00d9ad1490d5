-- bench/book.lua: wrk script that books distinct free 30-minute slots.
-- Slot k of thread t (t = 0 .. THREADS-1) is instrument (k*THREADS+t) % M
-- at BASE + ((k*THREADS+t) / M) * 30 min, so no two requests ask for the
-- same time on the same instrument and every answer should be 201.
-- Environment: TOKEN, INSTRUMENTS (M), BASE (UTC seconds), THREADS.

local M = tonumber(os.getenv("INSTRUMENTS"))
local BASE = tonumber(os.getenv("BASE"))
local THREADS = tonumber(os.getenv("THREADS"))
local TOKEN = os.getenv("TOKEN")
local nthreads = 0

function setup(thread)
	thread:set("tid", nthreads)
	nthreads = nthreads + 1
end

local k = 0
local headers = {
	["Authorization"] = "Bearer " .. TOKEN,
	["Content-Type"] = "application/json"
}

function request()
	local slot = k * THREADS + tid
	k = k + 1
	local t = BASE + math.floor(slot / M) * 1800
	local body = string.format('{"instrument":"IN-%d","start":"%s",' ..
	    '"duration":"PT30M","purpose":"bench"}', slot % M,
	    os.date("!%Y-%m-%dT%H:%M:%SZ", t))
	return wrk.format("POST", "/api/v1/reservations", headers, body)
end
