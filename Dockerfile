# One image for every part of Stampede: the exchange's roles (`python -m exchange_mock`, the role
# chosen by STAMPEDE_ROLES) and the Locust master and workers (`locust -f loadtests/locustfile.py`).
# Everything it runs is installed at build time; nothing is fetched when a container starts.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY exchange_mock exchange_mock
COPY loadtests loadtests
RUN pip install . \
    && useradd --create-home --uid 10001 stampede \
    && mkdir runs && chown stampede runs

USER stampede
# Inside a container the exchange listens on every interface; compose publishes only what it
# names, on 127.0.0.1.
ENV STAMPEDE_HOST=0.0.0.0
EXPOSE 8000 8089 9464 9465
CMD ["python", "-m", "exchange_mock"]
