"""`stampede run`'s preparation of the embedded mock: the crowd the profile names goes to the
exchange's genesis, a profile that does not load stops the run before anything starts, and the
load waits until the mock has settled."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from exchange_mock.settings import Crowd
from loadtests.run import RunOptions, genesis_crowd, locust_command, wait_until_settled
from tests.loadtests.fakes import FakeClock


def test_the_embedded_mock_opens_the_crowd_the_profile_names() -> None:
    assert genesis_crowd("oct-2025") == Crowd(accounts=1_500)
    assert genesis_crowd("step-ramp") is None


def test_a_profile_that_does_not_load_stops_the_run_saying_why(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\n")
    with pytest.raises(SystemExit, match=r"broken\.yaml: invalid profile"):
        genesis_crowd(str(broken))


class SettlingMock:
    """The mock's audit, books and index as it settles: the read model catching up after
    `quiet_after` polls of the audit, the BTC book's mid 1.5% above its index, then 0.1%."""

    def __init__(self, quiet_after: int, settled_after: int) -> None:
        self.audits = 0
        self.books = 0
        self.quiet_after = quiet_after
        self.settled_after = settled_after

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/stampede/audit":
            self.audits += 1
            return httpx.Response(200, json={"quiet": self.audits > self.quiet_after})
        if request.url.path == "/fapi/v1/premiumIndex":
            return httpx.Response(200, json={"indexPrice": "100000.00"})
        self.books += 1
        mid = 100_100 if self.books > self.settled_after else 101_500
        return httpx.Response(
            200, json={"bids": [[str(mid - 5), "1"]], "asks": [[str(mid + 5), "1"]]}
        )


def _client(mock: SettlingMock) -> httpx.Client:
    return httpx.Client(base_url="http://mock", transport=httpx.MockTransport(mock))


def test_the_load_waits_for_the_read_model_and_for_books_around_the_index() -> None:
    mock, clock = SettlingMock(quiet_after=3, settled_after=2), FakeClock()
    settled = wait_until_settled(
        _client(mock), ["BTCUSDT"], interval_s=0.5, clock=clock, sleep=clock.sleep
    )
    assert settled
    assert mock.audits == 6  # three while projecting, two while the book was off, then settled
    assert clock.sleeps == [0.5] * 5


def test_a_mock_that_never_settles_is_reported_at_the_deadline() -> None:
    mock, clock = SettlingMock(quiet_after=0, settled_after=10**6), FakeClock()
    settled = wait_until_settled(
        _client(mock), ["BTCUSDT"], timeout_s=3, interval_s=0.5, clock=clock, sleep=clock.sleep
    )
    assert not settled
    assert sum(clock.sleeps) == 3


def _recorded_workers(options: RunOptions) -> str | None:
    command = locust_command(options, "http://127.0.0.1:8000", Path("accounts.json"))
    if "--api-workers" not in command:
        return None
    return command[command.index("--api-workers") + 1]


@pytest.mark.parametrize(
    ("target", "api_workers", "recorded"),
    [
        (None, None, "1"),  # the embedded mock runs one unless told
        (None, 3, "3"),
        ("http://venue:8000", 4, "4"),  # a target's count is what the user says it is
        ("http://venue:8000", None, None),  # and unknown unless said
    ],
)
def test_the_run_records_how_many_api_workers_served_it(
    tmp_path: Path, target: str | None, api_workers: int | None, recorded: str | None
) -> None:
    options = RunOptions(profile="step-ramp", out=tmp_path, target=target, api_workers=api_workers)
    assert _recorded_workers(options) == recorded


def _processes(options: RunOptions) -> str | None:
    command = locust_command(options, "http://127.0.0.1:8000", Path("accounts.json"))
    return command[command.index("--processes") + 1] if "--processes" in command else None


def test_the_load_uses_every_core_against_a_target_and_one_beside_the_mock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    target = RunOptions(profile="step-ramp", out=tmp_path, target="http://venue:8000")
    embedded = RunOptions(profile="step-ramp", out=tmp_path)
    assert (_processes(target), _processes(embedded)) == ("4", None)
    chosen = RunOptions(profile="step-ramp", out=tmp_path, processes=2)
    assert _processes(chosen) == "2", "what the user asks for wins"


def test_forked_load_processes_meet_their_master_on_a_loopback_port_of_their_own(
    tmp_path: Path,
) -> None:
    """Two runs with --processes at once on one machine: the second one's master could not
    bind Locust's default port, and the run never started."""
    options = RunOptions(profile="step-ramp", out=tmp_path, processes=2)
    first, second = (
        locust_command(options, "http://127.0.0.1:8000", Path("accounts.json")) for _ in range(2)
    )
    for command in (first, second):
        assert _value(command, "--master-bind-host") == "127.0.0.1"
        assert _value(command, "--master-bind-port") == _value(command, "--master-port")
    assert _value(first, "--master-port") != _value(second, "--master-port")


def _value(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_a_client_timeout_is_passed_to_the_load_only_when_chosen(tmp_path: Path) -> None:
    def timeout_of(options: RunOptions) -> str | None:
        command = locust_command(options, "http://127.0.0.1:8000", Path("accounts.json"))
        flag = "--client-timeout"
        return command[command.index(flag) + 1] if flag in command else None

    assert timeout_of(RunOptions(profile="oct-2025", out=tmp_path)) is None
    assert timeout_of(RunOptions(profile="oct-2025", out=tmp_path, client_timeout=5.0)) == "5.0"
