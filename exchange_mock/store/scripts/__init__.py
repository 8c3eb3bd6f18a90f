"""Lua scripts for atomic multi-key work, shipped as package data.

A script is registered once per Redis client (`register_script`) and then runs by its SHA:
one round trip, executed atomically by the server, however many API workers share it.
"""

from __future__ import annotations

from importlib import resources


def source(name: str) -> str:
    """The text of the script `<name>.lua` in this package."""
    return resources.files(__name__).joinpath(f"{name}.lua").read_text(encoding="utf-8")
