-- wrk script for bench/vote_ingest.py: every request is a distinct legal vote.
--
--   wrk -t2 -c64 -d20s --latency -s bench/vote_ingest.lua http://127.0.0.1:PORT -- DATAFILE START
--
-- DATAFILE (written by vote_ingest.py): line 1 the vote path, line 2 the song ids separated by spaces, then
-- one line per voter: "<session id> <device cookie> <CSRF token>" (each token is bound to its session).
-- Request number k of thread t is vote index i = START + k * THREADS + t; index i is voter i % V, song
-- (i // V) % S and a client address derived from i (same formula as vote_ingest.request_for).

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("tid", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

local first_octets = {24, 31, 62, 77, 81, 85, 88, 92, 95, 109, 151, 176, 185, 188, 193, 212, 213, 217}
local path
local songs, cookies, tokens = {}, {}, {}
local nthreads, start = 1, 0
local headers = {}

k = 0
count201 = 0
count_other = 0
samples = ""

local function split(line)
   local parts = {}
   for part in string.gmatch(line, "%S+") do
      table.insert(parts, part)
   end
   return parts
end

function init(args)
   local file = assert(io.open(args[1], "r"))
   start = tonumber(args[2])
   nthreads = tonumber(args[3])
   path = file:read("*l")
   for _, id in ipairs(split(file:read("*l"))) do
      table.insert(songs, tonumber(id))
   end
   for line in file:lines() do
      local parts = split(line)
      if #parts == 3 then
         table.insert(cookies, "ovation_session=" .. parts[1] .. "; ovation_device=" .. parts[2]
            .. "; csrftoken=" .. parts[3])
         table.insert(tokens, parts[3])
      end
   end
   file:close()
   headers["Content-Type"] = "application/json"
   headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
   headers["Accept-Language"] = "sv-SE,sv;q=0.9,en;q=0.8"
end

local function address(i)
   local n = (i * 2654435761) % 4294967296
   local a = first_octets[(i % #first_octets) + 1]
   return string.format("%d.%d.%d.%d", a, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 254 + 1)
end

function request()
   local i = start + k * nthreads + tid
   k = k + 1
   local voter = i % #cookies
   local song = songs[(math.floor(i / #cookies) % #songs) + 1]
   headers["Cookie"] = cookies[voter + 1]
   headers["X-CSRFToken"] = tokens[voter + 1]
   headers["X-Forwarded-For"] = address(i)
   local body = string.format('{"song_id":%d,"fingerprint":"fp%012d","timezone":"Europe/Stockholm"}', song, voter)
   return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
   if status == 201 then
      count201 = count201 + 1
   else
      count_other = count_other + 1
      if #samples < 4000 then
         samples = samples .. "NON201 " .. status .. " " .. string.gsub(string.sub(body or "", 1, 300), "\n", " ") .. "\n"
      end
   end
end

function done(summary, latency, requests)
   local c201, other, issued = 0, 0, 0
   for _, thread in ipairs(threads) do
      c201 = c201 + thread:get("count201")
      other = other + thread:get("count_other")
      issued = math.max(issued, thread:get("k"))
      io.write(thread:get("samples"))
   end
   local e = summary.errors
   io.write(string.format(
      'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,'
         .. '"status_201":%d,"status_other":%d,"max_k":%d,"err_connect":%d,"err_read":%d,"err_write":%d,'
         .. '"err_timeout":%d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, latency.mean, c201, other, issued, e.connect, e.read, e.write, e.timeout))
end
