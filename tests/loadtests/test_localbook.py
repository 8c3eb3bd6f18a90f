"""The local order book procedure: buffer, snapshot, drop stale, join, chain by `pu`, resync."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from loadtests.localbook import LocalBook, Outcome, parse_levels


def event(first: int, last: int, bids: Any = (), asks: Any = (), pu: int | None = None) -> Any:
    return {
        "e": "depthUpdate",
        "U": first,
        "u": last,
        "pu": first - 1 if pu is None else pu,
        "b": [list(level) for level in bids],
        "a": [list(level) for level in asks],
    }


SNAPSHOT = {
    "lastUpdateId": 10,
    "bids": [["100.0", "1.000"], ["99.9", "2.000"]],
    "asks": [["100.1", "1.500"], ["100.2", "3.000"]],
}


def synced_book() -> LocalBook:
    book = LocalBook()
    book.on_snapshot(SNAPSHOT)
    assert book.on_event(event(9, 12, bids=[("99.8", "4")])) is Outcome.APPLIED
    return book


def test_events_before_the_snapshot_wait_for_it_and_the_stale_ones_are_dropped() -> None:
    book = LocalBook()
    assert book.needs_snapshot
    assert book.on_event(event(5, 8, bids=[("100.0", "9")])) is Outcome.BUFFERED
    assert book.on_event(event(9, 11, bids=[("100.0", "0")])) is Outcome.BUFFERED
    assert book.on_event(event(12, 13, asks=[("100.3", "1")])) is Outcome.BUFFERED
    assert book.on_snapshot(SNAPSHOT) == [Outcome.STALE, Outcome.APPLIED, Outcome.APPLIED]
    bids, asks = book.levels()
    # The stale event's size for 100.0 never lands; the joining event deletes the level.
    assert bids == [(Decimal("99.9"), Decimal("2.000"))]
    assert [price for price, _ in asks] == [Decimal("100.1"), Decimal("100.2"), Decimal("100.3")]
    assert book.update_id == 13 and book.synced


def test_the_first_event_must_span_the_snapshot_or_follow_it_directly() -> None:
    book = LocalBook()
    book.on_snapshot(SNAPSHOT)
    assert book.on_event(event(12, 14)) is Outcome.GAP
    assert book.needs_snapshot and not book.bids
    book = LocalBook()
    book.on_snapshot(SNAPSHOT)
    assert book.on_event(event(11, 14, asks=[("100.1", "0")])) is Outcome.APPLIED
    assert book.update_id == 14 and Decimal("100.1") not in book.asks


def test_an_event_whose_pu_is_not_the_previous_u_is_a_gap_and_is_kept_for_the_resync() -> None:
    book = synced_book()
    assert book.on_event(event(13, 15)) is Outcome.APPLIED
    missed = event(17, 18, asks=[("100.1", "0")], pu=16)
    assert book.on_event(missed) is Outcome.GAP
    assert book.needs_snapshot and not book.asks
    # Resynced from a snapshot the gap event joins: it is applied from the buffer.
    assert book.on_snapshot({**SNAPSHOT, "lastUpdateId": 17}) == [Outcome.APPLIED]
    assert book.update_id == 18
    assert Decimal("100.1") not in book.asks


def test_a_zero_size_deletes_a_level_even_one_the_book_never_held() -> None:
    book = synced_book()
    assert book.on_event(event(13, 13, bids=[("99.9", "0"), ("50.0", "0")])) is Outcome.APPLIED
    assert book.levels(limit=5)[0] == [
        (Decimal("100.0"), Decimal("1.000")),
        (Decimal("99.8"), Decimal("4")),
    ]


def test_sizes_are_absolute_and_levels_come_best_first_up_to_the_limit() -> None:
    book = synced_book()
    book.on_event(event(13, 14, bids=[("100.0", "0.5")], asks=[("100.05", "2")]))
    bids, asks = book.levels(limit=2)
    assert bids == [(Decimal("100.0"), Decimal("0.5")), (Decimal("99.9"), Decimal("2.000"))]
    assert asks == [(Decimal("100.05"), Decimal("2")), (Decimal("100.1"), Decimal("1.500"))]


def test_the_buffer_is_bounded_and_losing_its_oldest_shows_as_a_gap() -> None:
    book = LocalBook(max_buffered=2)
    for first in (11, 12, 13):
        book.on_event(event(first, first))
    # Event 11, the one that follows the snapshot at 10, fell out: 12 cannot join it.
    assert book.on_snapshot(SNAPSHOT) == [Outcome.GAP, Outcome.BUFFERED]


@pytest.mark.parametrize("text", ["0.001", "122500.10", "1E+2"])
def test_wire_levels_read_as_exact_decimals(text: str) -> None:
    assert parse_levels([[text, text]]) == [(Decimal(text), Decimal(text))]
