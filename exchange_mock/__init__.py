"""A miniature but honest Binance-compatible perpetual-futures exchange: the system under test."""
