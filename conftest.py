"""Fixtures every test folder shares: where the real servers are, and clean places in them.

Integration tests use the servers named by KAFKA_BOOTSTRAP_SERVERS and MONGODB_URL (what
`scripts/servers.py env` exports, and what `make check` sets). Where those are absent and a
Docker engine answers, testcontainers starts Kafka (KRaft) and MongoDB. Where neither is there,
the tests fail and say how to start the servers: they never skip.
"""

pytest_plugins = ["kits_fixtures", "kits_browser_fixtures"]
