"""`python -m exchange_mock`: serve with the settings in the environment — how role and worker
processes (and tests that want the exchange on cores of its own) start it."""

from exchange_mock.server import serve
from exchange_mock.settings import Settings

if __name__ == "__main__":
    serve(Settings())
