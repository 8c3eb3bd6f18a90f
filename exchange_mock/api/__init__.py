"""The Binance-compatible HTTP edge: authentication, parameter parsing, static order validation
and the explicit converters between the engine's integers and Binance's wire JSON.

Workers here are stateless: every request reads the read model or submits a command to the bus,
so the API tier scales out across processes. Each router module exposes `router`, which
the app factory mounts.
"""
