"""A venue that costs nothing: an asyncio HTTP/1.1 keep-alive server answering each request with
a fixed, tiny Binance-shaped body, so a load generator in front of it measures only itself.

It answers just enough for the harness to start (exchangeInfo, premiumIndex, time) and `{}` to
everything else, and counts the requests it has served: `GET /__served` answers the count
(itself uncounted), so a benchmark can take the requests of a window of its choice.

Usage: python benchmarks/baselines/venue.py PORT
"""

from __future__ import annotations

import asyncio
import sys
import time

import orjson

FILTERS = [
    {"filterType": "PRICE_FILTER", "tickSize": "0.10", "minPrice": "1", "maxPrice": "1000000"},
    {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001", "maxQty": "1000"},
    {"filterType": "MIN_NOTIONAL", "notional": "100"},
]
EXCHANGE_INFO = orjson.dumps(
    {"symbols": [{"symbol": s, "filters": FILTERS} for s in ("BTCUSDT", "ETHUSDT")]}
)
PREMIUM_INDEX = orjson.dumps({"symbol": "BTCUSDT", "markPrice": "100000.0"})
EMPTY = b"{}"
COUNT_PATH = b"/__served"


def response(body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


FIXED = {
    b"/fapi/v1/exchangeInfo": response(EXCHANGE_INFO),
    b"/fapi/v1/premiumIndex": response(PREMIUM_INDEX),
}
DEFAULT = response(EMPTY)


class Venue(asyncio.Protocol):
    served = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            path = head.split(b" ", 2)[1].split(b"?", 1)[0]
            self.transport.write(self.answer(path))

    def answer(self, path: bytes) -> bytes:
        if path == COUNT_PATH:
            return response(str(Venue.served).encode())
        Venue.served += 1
        if path == b"/fapi/v1/time":
            return response(orjson.dumps({"serverTime": time.time_ns() // 1_000_000}))
        return FIXED.get(path, DEFAULT)


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Venue, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
