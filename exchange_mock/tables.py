"""Tables are data: the contracts, the collateral, the rate limits and the venues are YAML files
shipped in `exchange_mock/data` (or given by path), each validated by the model that reads it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import ClassVar, Self

import yaml
from pydantic import BaseModel


class ShippedTable(BaseModel):
    """A table read from YAML; `shipped` names the package's own copy in `exchange_mock/data`."""

    shipped: ClassVar[str]

    @classmethod
    def load(cls, path: Path | None = None) -> Self:
        """Read the table from `path`, or the one shipped with the package."""
        if path is None:
            text = resources.files("exchange_mock.data").joinpath(cls.shipped).read_text()
        else:
            text = path.read_text()
        return cls.model_validate(yaml.safe_load(text))
