-- Append a command to the orders stream unless the queue in front of the engine is deeper than
-- the limit: the check and the append are one atomic step, so however many API workers race,
-- the queue never passes the limit by more than the commands that are exempt from it.
--
-- KEYS[1]     the orders stream
-- ARGV[1]     the deepest queue a new command may join
-- ARGV[2..]   the entry's fields and values
--
-- Returns the new entry's id, or false when the command was shed.

if redis.call('XLEN', KEYS[1]) > tonumber(ARGV[1]) then
  return false
end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
