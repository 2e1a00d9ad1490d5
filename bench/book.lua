-- bench/book.lua: wrk script that books distinct free 30-minute slots.
-- Slot k of thread t (t = 0 .. THREADS-1), s = k*THREADS+t, is instrument
-- (s*STRIDE) % M at BASE + (s / M) * 30 min: within each 30 minutes every
-- instrument once, so no two requests ask for the same time on the same
-- instrument and every answer should be 201.
--
-- STRIDE sets how far apart the instruments of consecutive requests are.
-- By default it is the first number from 0.382 M up with no factor in
-- common with M (767 for 2,000): consecutive requests land on instruments
-- far apart, as independent users' requests do, and share no page of the
-- instrument index.  STRIDE=1 gives the order used until 2026-11-29,
-- consecutive requests on adjacent instruments, whose index entries lie
-- side by side while the database is small (bench/README.md).
-- Environment: TOKEN, INSTRUMENTS (M), BASE (UTC seconds), THREADS, STRIDE.

local M = tonumber(os.getenv("INSTRUMENTS"))
local BASE = tonumber(os.getenv("BASE"))
local THREADS = tonumber(os.getenv("THREADS"))
local TOKEN = os.getenv("TOKEN")
local function gcd(a, b)
	while b ~= 0 do
		a, b = b, a % b
	end
	return a
end
local STRIDE = tonumber(os.getenv("STRIDE") or "") or 0
if STRIDE < 1 then
	STRIDE = math.max(1, math.floor(M * 0.382))
	while gcd(STRIDE, M) ~= 1 do
		STRIDE = STRIDE + 1
	end
end
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
	    '"duration":"PT30M","purpose":"bench"}', (slot * STRIDE) % M,
	    os.date("!%Y-%m-%dT%H:%M:%SZ", t))
	return wrk.format("POST", "/api/v1/reservations", headers, body)
end
