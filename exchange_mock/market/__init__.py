"""Background agents that make the market: reference prices and market makers."""
