#!/usr/bin/env python3
"""Local servers without Docker: PostgreSQL, FerretDB (MongoDB wire protocol) and Kafka.

Standard library only (Python 3.11). All state lives in the git-ignored folder
``.local/`` at the repository root:

    .local/cache/kafka-jars/     Kafka + log4j jars copied by Maven (scripts/kafka/pom.xml)
    .local/cache/bin/ferretdb    FerretDB built from scripts/ferretdb (rebuilt on source change)
    .local/kafka/<instance>/     server.properties, instance.json, data/ (KRaft log dirs)
    .local/pg/data/              PostgreSQL cluster (owned by the postgres user when run as root)
    .local/run/                  <name>.pid, <name>.log, lock files
    .local/db/<instance>/        a named PostgreSQL + FerretDB pair (pg/data, pid, log, ports)

Usage:
    scripts/servers.py up | down | status | env
    scripts/servers.py kafka up|down|status [--instance NAME] [--port P] [--controller-port C]
    scripts/servers.py postgres up|down|status
    scripts/servers.py ferretdb up|down|status
    scripts/servers.py db up|down|status --instance NAME [--pg-port P --port F]
                                         [--only postgres|ferretdb] [--kill]

Ports (all on 127.0.0.1) come from KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093),
PG_PORT (15432) and FERRETDB_PORT (27018). Readiness is polled (SERVERS_TIMEOUT, default 60 s).

Only processes this script started (found through its pid files) are ever stopped.

This file is the entry point only; the code lives in scripts/devservers/ (see its __init__.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from devservers.cli import main

if __name__ == "__main__":
    sys.exit(main())
