"""The market around the engine: simulated spot venues, the oracle that prices marks and
collateral from them (or from the exchange's own books), and the market makers. The tests step
the same parts on a simulated clock (`tests/market/simulation.py`)."""
