"""Every message crosses Redis as JSON: what the engine journals must decode to what it was."""

from __future__ import annotations

import pytest

from exchange_mock.domain import codec
from exchange_mock.domain.events import AdlQuantilesUpdated, OrderUpdated, PositionLiquidated
from exchange_mock.market.oracle import OracleMode
from tests.market.test_cascade import cascade


def test_a_cascades_journal_decodes_to_the_events_the_engine_made() -> None:
    journal = cascade("BTCUSDT", OracleMode.SPOT).simulation.journal
    kinds = {type(event) for event in journal}
    # Nested snapshots, enums and tuples of records are all in there.
    assert {OrderUpdated, PositionLiquidated, AdlQuantilesUpdated} <= kinds
    assert [codec.decode_event(codec.encode(event)) for event in journal] == journal


def test_a_message_of_another_kind_is_refused() -> None:
    event = cascade("BTCUSDT", OracleMode.SPOT).simulation.journal[0]
    with pytest.raises(TypeError):
        codec.decode_command(codec.encode(event))
    with pytest.raises(ValueError, match="unknown message type"):
        codec.decode_event(b'{"t": "NoSuchEvent"}')
