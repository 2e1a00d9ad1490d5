-- bench/feed.lua: wrk script for one feed URL, sent with If-None-Match
-- (environment: ETAG, the feed's current ETag).  It counts the answers by
-- status, and done() prints them, so that the bench can check that every
-- answer was a 304 (a 200 would mean the feed was rebuilt or resent).
local etag = os.getenv("ETAG")
local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	n304 = 0
	nother = 0
	wrk.headers["If-None-Match"] = etag
end

function response(status, headers, body)
	if status == 304 then
		n304 = n304 + 1
	else
		nother = nother + 1
	end
end

function done(summary, latency, requests)
	local a, b = 0, 0
	for _, t in ipairs(threads) do
		a = a + t:get("n304")
		b = b + t:get("nother")
	end
	io.write(string.format("status 304: %d, other: %d\n", a, b))
end
