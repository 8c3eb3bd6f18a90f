"""Journal → read model: the projector that serves positions, balances and orders to the API."""
