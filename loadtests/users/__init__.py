"""The Locust users of a surge and the client machinery they share: signing, retries, pacing,
and the probes and feed listeners that measure what a trader sees."""
