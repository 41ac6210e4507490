"""The code behind scripts/servers.py (local PostgreSQL, FerretDB and Kafka without Docker).

    common.py      paths under .local/, settings, output, locks, commands, port checks
    process.py     pid files (Component), stopping, spawning, polling for readiness
    postgres.py    PostgreSQL: install, initdb, pg_ctl start, stop (the main cluster or a named one)
    pg_client.py   PostgreSQL client programs: pg_isready, creating the FerretDB database
    ferretdb.py    FerretDB: Go build, start on PostgreSQL, OP_MSG ping probe, stop
    dbinstances.py named PostgreSQL + FerretDB pairs under .local/db/<instance>/ (the `db` command)
    kafka_jars.py  Java and the broker's jars (Maven, cached)
    kafka.py       Kafka KRaft instances: properties, format, start/stop, wire-protocol probe
    cli.py         the command line: up, down, status, env and the per-server commands

Standard library only (Python 3.11). Run it through scripts/servers.py.
"""
