"""The exchange's language: commands (imperative, what a client asks) and events (past tense,
what the engine decided). The journal is the list of events, so it reads like a story."""
