"""Kafka (KRaft) instances: properties, storage format, start/stop, the wire-protocol probe."""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import time
from pathlib import Path
from typing import Any

from .common import (
    HOST,
    KAFKA_HOME,
    KAFKA_LOG4J,
    MAIN,
    Failure,
    ensure_dirs,
    env_port,
    locked,
    port_open,
    recv_exact,
    run,
    say,
    step,
    write_atomic,
)
from .kafka_jars import java_bin, kafka_jars
from .process import Component, reuse_running, spawn, stop_component, wait_ready

INSTANCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,40}$")

# --------------------------------------------------------------------------- protocol probe


def _kafka_request(s: socket.socket, api_key: int, version: int, corr: int, body: bytes) -> bytes:
    client = b"servers.py"
    header = struct.pack(">hhih", api_key, version, corr, len(client)) + client
    msg = header + body
    s.sendall(struct.pack(">i", len(msg)) + msg)
    size = struct.unpack(">i", recv_exact(s, 4))[0]
    resp = recv_exact(s, size)
    if struct.unpack(">i", resp[:4])[0] != corr:
        raise ConnectionError("correlation id mismatch")
    return resp[4:]


def kafka_probe(port: int, timeout: float = 2.0) -> bool:
    """True when the broker answers ApiVersions and a Metadata request that lists a broker."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.settimeout(timeout)
        # ApiVersions v0: error_code int16, [api_key int16, min int16, max int16]
        resp = _kafka_request(s, 18, 0, 1, b"")
        error, count = struct.unpack(">hi", resp[:6])
        if error != 0:
            raise ConnectionError(f"ApiVersions error code {error}")
        versions = {}
        for i in range(count):
            key, lo, hi = struct.unpack(">hhh", resp[6 + 6 * i : 12 + 6 * i])
            versions[key] = (lo, hi)
        if 3 not in versions:
            raise ConnectionError("broker does not list Metadata")
        lo, hi = versions[3]
        # Non-flexible Metadata versions 1..8 are enough to count brokers.
        v = min(hi, 8)
        if v < max(lo, 1):
            return True  # cannot ask Metadata without flexible encoding: ApiVersions must do
        body = struct.pack(">i", 0)  # topics: empty array (no topics)
        if v >= 4:
            body += b"\x00"  # allow_auto_topic_creation
        if v >= 8:
            body += b"\x00\x00"  # include_*_authorized_operations
        resp = _kafka_request(s, 3, v, 2, body)
        off = 4 if v >= 3 else 0  # throttle_time_ms
        brokers = struct.unpack(">i", resp[off : off + 4])[0]
        if brokers < 1:
            raise ConnectionError("metadata lists no broker yet")
        return True


# --------------------------------------------------------------------------- instances


def kafka_component(instance: str) -> Component:
    return Component(
        f"kafka-{instance}", marker=str(KAFKA_HOME / instance / "server.properties"), kind="kafka"
    )


def kafka_instances() -> list[str]:
    if not KAFKA_HOME.is_dir():
        return []
    names = [p.name for p in KAFKA_HOME.iterdir() if (p / "instance.json").exists()]
    return sorted(names, key=lambda n: (n != MAIN, n))


def kafka_instance_info(instance: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((KAFKA_HOME / instance / "instance.json").read_text())
        return data
    except (OSError, ValueError):
        return {}


def kafka_ports(instance: str, port: int | None, cport: int | None) -> tuple[int, int]:
    """--flag, then (main only) the environment, then the recorded ports, then defaults."""
    info = kafka_instance_info(instance)
    if port is None and instance == MAIN and os.environ.get("KAFKA_PORT"):
        port = env_port("KAFKA_PORT", 19092)
    if cport is None and instance == MAIN and os.environ.get("KAFKA_CONTROLLER_PORT"):
        cport = env_port("KAFKA_CONTROLLER_PORT", 19093)
    port = port or info.get("port")
    cport = cport or info.get("controller_port")
    if instance == MAIN:
        port = port or 19092
        cport = cport or 19093
    if not port or not cport:
        raise Failure(
            f"kafka instance '{instance}' is new: give it --port and --controller-port "
            f"(the main instance uses {env_port('KAFKA_PORT', 19092)}/"
            f"{env_port('KAFKA_CONTROLLER_PORT', 19093)})"
        )
    if port == cport:
        raise Failure("kafka: --port and --controller-port must differ")
    return int(port), int(cport)


# --------------------------------------------------------------------------- broker


def kafka_properties(instance_dir: Path, port: int, cport: int) -> str:
    return "\n".join(
        [
            "# written by scripts/servers.py on every start",
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.bootstrap.servers={HOST}:{cport}",
            f"listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={instance_dir / 'data'}",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=false",
            "broker.session.timeout.ms=3000",
            "broker.heartbeat.interval.ms=500",
            "",
        ]
    )


def kafka_up(instance: str, port: int | None, cport: int | None, timeout: float) -> int:
    if not INSTANCE_RE.match(instance):
        raise Failure(f"kafka: bad instance name {instance!r} (letters, digits, - and _)")
    comp = kafka_component(instance)
    with locked(comp.name):
        ensure_dirs()
        port, cport = kafka_ports(instance, port, cport)
        pid = comp.pid()
        if pid is not None:
            return _kafka_running(comp, instance, pid, (port, cport), timeout)
        comp.clear_stale()
        for p in (port, cport):
            if port_open(p):
                raise Failure(
                    f"{comp.name}: port {HOST}:{p} is already used by a process "
                    "this script did not start"
                )

        java = java_bin()
        with locked("kafka-jars"):
            jars = kafka_jars()
        return _kafka_start(comp, instance, java, f"{jars}/*", (port, cport), timeout)


def _kafka_running(
    comp: Component, instance: str, pid: int, ports: tuple[int, int], timeout: float
) -> int:
    """kafka_up when ours is alive: check its ports, wait until it answers."""
    port, cport = ports
    st = comp.state()
    if (st.get("port"), st.get("controller_port")) != (port, cport):
        raise Failure(
            f"{comp.name} is running on ports "
            f"{st.get('port')}/{st.get('controller_port')}, "
            f"not {port}/{cport}: run `servers.py kafka down --instance {instance}` first"
        )
    reuse_running(
        comp, pid=pid, probe=lambda: kafka_probe(port), where=f"{HOST}:{port}", timeout=timeout
    )
    return port


def _kafka_config(
    comp: Component, instance: str, port: int, cport: int
) -> tuple[Path, dict[str, Any], bool]:
    """Write server.properties; return its path, instance.json's data, whether formatted."""
    idir = KAFKA_HOME / instance
    idir.mkdir(parents=True, exist_ok=True)
    info = kafka_instance_info(instance)
    formatted = (idir / "data" / "meta.properties").exists()
    if formatted and info.get("controller_port") not in (None, cport):
        raise Failure(
            f"{comp.name}: its storage was formatted with controller port "
            f"{info['controller_port']} "
            f"(the KRaft voter set remembers it); use that port, "
            f"or delete {idir} to start afresh"
        )
    props = idir / "server.properties"
    write_atomic(props, kafka_properties(idir, port, cport))
    return props, info, formatted


def _kafka_format(comp: Component, tool: list[str], info: dict[str, Any], props: Path) -> str:
    """Format the KRaft storage (reusing a recorded cluster id); return the cluster id."""
    step(f"{comp.name}: formatting storage in {props.parent / 'data'}")
    cluster_id: str = (
        info.get("cluster_id")
        or run(
            [*tool, "kafka.tools.StorageTool", "random-uuid"],
            "StorageTool random-uuid",
            timeout=120,
        )
        .strip()
        .splitlines()[-1]
        .strip()
    )
    run(
        [
            *tool,
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            cluster_id,
            "-c",
            str(props),
        ],
        "StorageTool format",
        timeout=120,
    )
    return cluster_id


def _kafka_start(
    comp: Component,
    instance: str,
    java: str,
    classpath: str,
    ports: tuple[int, int],
    timeout: float,
) -> int:
    """Configure (and format, the first time) the instance, start the broker, wait for it."""
    port, cport = ports
    props, info, formatted = _kafka_config(comp, instance, port, cport)
    log4j = f"-Dlog4j2.configurationFile={KAFKA_LOG4J}"
    t0 = time.monotonic()
    if not formatted:
        info["cluster_id"] = _kafka_format(comp, [java, log4j, "-cp", classpath], info, props)
    info.update(port=port, controller_port=cport)
    write_atomic(props.parent / "instance.json", json.dumps(info, indent=2) + "\n")

    step(f"{comp.name}: starting on {HOST}:{port} (controller {cport})")
    cmd = [
        java,
        "-Xms256m",
        "-Xmx512m",
        "-Djava.awt.headless=true",
        log4j,
        "-cp",
        classpath,
        "kafka.Kafka",
        str(props),
    ]
    proc = spawn(comp, cmd, cwd=props.parent)
    comp.save(proc.pid, port=port, controller_port=cport)
    wait_ready(comp, lambda: kafka_probe(port), timeout, proc=proc)
    say(f"{comp.name}: ready in {time.monotonic() - t0:.1f} s (pid {proc.pid}, {HOST}:{port})")
    return port


def kafka_down(instance: str, kill: bool = False) -> None:
    comp = kafka_component(instance)
    with locked(comp.name):
        stop_component(comp, kill=kill)
