-- Admit one request: ban check, fixed-window counters, strikes and bans, atomically and in one
-- round trip, so every API worker sharing this Redis enforces one set of limits.
--
-- KEYS[1]     the IP's penalty hash: `until` (banned until, ms), `bans` (rung on the ban
--             ladder), `retry` (end of the current 429 period, ms), `strikes` (requests
--             refused within that period after its first 429)
-- KEYS[2..n]  one counter per limit that applies, named for its window
-- ARGV[1..6]  now (ms), strikes allowed, first ban (ms), ban factor, longest ban (ms),
--             forget bans after (ms)
-- ARGV[7..]   per counter: increment, limit, window length (ms)
--
-- Returns {0, count...}                     admitted, with every counter's value
--         {1, index, reset (ms), count...}  refused (429); `index` is the counter over its
--                                           limit whose window ends last
--         {2, banned until (ms)}            banned (418)
--
-- Decisions use the caller's clock (ARGV[1]) so every worker and every test agrees on windows;
-- TTLs only clean up, and never shorter than the state they hold is needed.

local penalty = KEYS[1]
local now = tonumber(ARGV[1])

local function keep_for(ms)
  if redis.call('PTTL', penalty) < ms then
    redis.call('PEXPIRE', penalty, ms)
  end
end

local state = redis.call('HMGET', penalty, 'until', 'bans', 'retry', 'strikes')
local banned_until = tonumber(state[1]) or 0
if now < banned_until then
  return {2, banned_until}
end

-- Rejected requests count too: a client cannot stay over its limit for free.
local counts = {}
local over, reset, over_window = 0, 0, 0
for i = 2, #KEYS do
  local arg = 7 + (i - 2) * 3
  local increment = tonumber(ARGV[arg])
  local limit = tonumber(ARGV[arg + 1])
  local window = tonumber(ARGV[arg + 2])
  local count = redis.call('INCRBY', KEYS[i], increment)
  if count == increment then
    redis.call('PEXPIRE', KEYS[i], window)
  end
  counts[i - 1] = count
  local window_end = now - now % window + window
  if count > limit and window_end > reset then
    over, reset, over_window = i - 1, window_end, window
  end
end
if over == 0 then
  return {0, unpack(counts)}
end

-- The first refusal opens a Retry-After period; each further refusal within it is a strike.
local retry = tonumber(state[3]) or 0
local strikes = 0
if now < retry then
  strikes = (tonumber(state[4]) or 0) + 1
end
if strikes < tonumber(ARGV[2]) then
  redis.call('HSET', penalty, 'retry', math.max(retry, reset), 'strikes', strikes)
  keep_for(over_window)
  return {1, over, reset, unpack(counts)}
end

local first, factor, longest, forget =
  tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local bans = tonumber(state[2]) or 0
if now >= banned_until + forget then
  bans = 0
end
local length = math.min(first * factor ^ bans, longest)
banned_until = now + length
redis.call('HSET', penalty, 'until', banned_until, 'bans', bans + 1, 'retry', 0, 'strikes', 0)
keep_for(length + forget)
return {2, banned_until}
