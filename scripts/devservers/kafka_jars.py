"""Java and the Kafka broker's jars (copied by Maven from scripts/kafka/pom.xml, cached)."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from .common import CACHE, KAFKA_JARS, KAFKA_POM, Failure, run, step


def java_bin() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if not java:
        raise Failure(
            "kafka: java is not installed "
            "(Java 17+ is needed; e.g. apt-get install -y openjdk-17-jre-headless)"
        )
    return java


def kafka_jars() -> Path:
    """Copy the broker's jars with Maven once; again only when scripts/kafka/pom.xml changes."""
    stamp = KAFKA_JARS / ".pom.sha256"
    want = hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()
    if (
        stamp.exists()
        and stamp.read_text().strip() == want
        and any(KAFKA_JARS.glob("kafka_2.13-*.jar"))
    ):
        return KAFKA_JARS
    mvn = shutil.which("mvn")
    if not mvn:
        raise Failure(
            "kafka: Maven (mvn) is not installed "
            "(needed once to fetch the Kafka jars; apt-get install -y maven)"
        )
    step("kafka: fetching jars with Maven (first time: ~10-20 s) ...")
    t0 = time.monotonic()
    tmp = CACHE / "kafka-jars.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    _mvn_copy_dependencies(mvn, tmp)
    if not any(tmp.glob("kafka_2.13-*.jar")):
        raise Failure(f"kafka: Maven finished but {tmp} has no kafka_2.13 jar")
    (tmp / ".pom.sha256").write_text(want + "\n")
    shutil.rmtree(KAFKA_JARS, ignore_errors=True)
    os.replace(tmp, KAFKA_JARS)
    step(f"kafka: {len(list(KAFKA_JARS.glob('*.jar')))} jars in {time.monotonic() - t0:.1f} s")
    return KAFKA_JARS


def _mvn_copy_dependencies(mvn: str, out: Path) -> None:
    run(
        [
            mvn,
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(KAFKA_POM),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={out}",
        ],
        "mvn dependency:copy-dependencies",
        timeout=1200,
    )
