-- One account read in one round trip: the account hash, the sequence the projector has applied
-- up to, the journal head, the marks and the collateral prices.
-- KEYS: account hash, projector seq, journal head, marks hash, collateral prices hash.
-- Missing strings come back as "" (a Lua nil would end the reply's array early).
return {
  redis.call('HGETALL', KEYS[1]),
  redis.call('GET', KEYS[2]) or '',
  redis.call('GET', KEYS[3]) or '',
  redis.call('HGETALL', KEYS[4]),
  redis.call('HGETALL', KEYS[5]),
}
