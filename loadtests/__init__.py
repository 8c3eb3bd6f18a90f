"""Cascade-style surges against any Binance-compatible target, measured correctly: latency from
intended send times, read-your-writes staleness, liquidation-feed lag and completeness."""
