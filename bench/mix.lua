-- bench/mix.lua: wrk script for the soak test: a mix of bookings (distinct
-- free 30-minute slots, as book.lua), a week's availability, an
-- instrument's calendar feed and the health check, in turn.
-- Environment: TOKEN, FEEDTOKEN, INSTRUMENTS (M), BASE, THREADS, FROM, TO.

local M = tonumber(os.getenv("INSTRUMENTS"))
local BASE = tonumber(os.getenv("BASE"))
local THREADS = tonumber(os.getenv("THREADS"))
local FROM, TO = os.getenv("FROM"), os.getenv("TO")
local FEEDTOKEN = os.getenv("FEEDTOKEN")
local nthreads = 0

function setup(thread)
	thread:set("tid", nthreads)
	nthreads = nthreads + 1
end

local k, n = 0, 0
local headers = {
	["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
	["Content-Type"] = "application/json"
}
local get_headers = { ["Authorization"] = headers["Authorization"] }

function request()
	n = n + 1
	local kind = n % 4
	if kind == 0 then
		local slot = k * THREADS + tid
		k = k + 1
		local t = BASE + math.floor(slot / M) * 1800
		local body = string.format('{"instrument":"IN-%d","start":"%s",' ..
		    '"duration":"PT30M","purpose":"soak"}', slot % M,
		    os.date("!%Y-%m-%dT%H:%M:%SZ", t))
		return wrk.format("POST", "/api/v1/reservations", headers, body)
	elseif kind == 1 then
		return wrk.format("GET", string.format(
		    "/api/v1/instruments/IN-%d/availability?from=%s&to=%s",
		    n % M, FROM, TO), get_headers)
	elseif kind == 2 then
		return wrk.format("GET", string.format(
		    "/feeds/instruments/IN-%d.ics?token=%s", n % M, FEEDTOKEN))
	end
	return wrk.format("GET", "/api/v1/health")
end
