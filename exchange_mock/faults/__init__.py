"""Fault injection: slowdowns, pauses and failures an operator switches on to see how clients and
the harness cope.

A fault never fakes an outcome. It slows or stops a real part of the pipeline (a Redis round
trip, the engine, the projector, the API) or fails a real request, and the timeouts, queues and
stale reads that follow emerge from the pipeline itself.

- `kinds`: the fault kinds, their units and bounds.
- `board`: the faults in force, shared by every process through Redis, and each process's
  cached copy of them.
- `pacing`: how the engine's and the projector's loops obey a pause and their delays.
- `latency`: a Redis connection that adds latency by class of operation.
- `stale`: a read path that serves positions and balances from a lagging copy.
- `redis_outage`, `redis_restart`, `role_crash`: outages an operator rehearses, events rather
  than levels (`POST /stampede/admin/outage`): Redis refusing every client for a while, the
  embedded Redis restarted from its append-only file, a role's process killed and restarted.

The API's own faults (unavailable, unknown error, added latency) are applied by the edge
middleware, `api/middleware.py`; any other component reads a fault with
`Node.faults.value(FaultKind.X)`.
"""
