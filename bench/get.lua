-- bench/get.lua: wrk script for authenticated GETs of PATHS, a
-- space-separated list taken in turn (environment: TOKEN, PATHS).
local paths = {}
for p in string.gmatch(os.getenv("PATHS"), "%S+") do
	paths[#paths + 1] = p
end
local i = 0
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN") }

function request()
	i = i % #paths + 1
	return wrk.format("GET", paths[i], headers)
end
