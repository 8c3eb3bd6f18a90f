"""Lua scripts for atomic multi-key work, shipped as package data.

A script is registered once per Redis client (`register_script`) and then runs by its SHA:
one round trip, executed atomically by the server, however many API workers share it.
"""

from __future__ import annotations

import hashlib
from importlib import resources

READ_ONLY = frozenset({"account"})
"""Scripts that only read: injected Redis latency slows them as reads, not as writes."""


def source(name: str) -> str:
    """The text of the script `<name>.lua` in this package."""
    return resources.files(__name__).joinpath(f"{name}.lua").read_text(encoding="utf-8")


def sha(name: str) -> str:
    """The SHA1 Redis knows the script `<name>.lua` by (what EVALSHA sends)."""
    return hashlib.sha1(source(name).encode()).hexdigest()
