"""Conformance of the mock against real clients\x27 own test suites."""
