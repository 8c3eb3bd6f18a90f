"""The exchange's Prometheus metrics (`stampede_exchange_*`): what each process measures, and how
Prometheus reads it.

- `registry`: the metrics themselves, one set per process, and their exposition;
- `asgi`: requests, latency, rate-limit refusals and WebSocket clients at the HTTP edge, and
  `GET /metrics` on every API worker;
- `redis_latency`: the round trip of every Redis command the exchange sends;
- `sampler`: the pipeline's state as Redis holds it (queue depth, projector lag, liquidations,
  insurance fund, marks), sampled by the process running the role that owns it;
- `hooks`: the one-line calls the command bus and the engine make to be counted.
"""
