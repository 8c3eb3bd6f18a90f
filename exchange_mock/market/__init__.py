"""The market around the engine: simulated spot venues, the oracle that prices marks and
collateral from them (or from the exchange's own books), the market makers, and an in-process
simulation of the whole feedback loop."""
