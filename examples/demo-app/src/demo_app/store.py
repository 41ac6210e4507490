"""SQLite storage in DEMO_DATA_DIR: sign-in flows, sessions, tokens, uploads, deletions.

Each call is one short statement on a local file (well under a millisecond), so the app calls it
inline; a bigger app would move it off the event loop.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS flows (state TEXT PRIMARY KEY, verifier TEXT, nonce TEXT,
    session_id TEXT, created REAL);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, open_id TEXT, created REAL,
    ended TEXT);
CREATE TABLE IF NOT EXISTS tokens (open_id TEXT PRIMARY KEY, token TEXT, updated REAL);
CREATE TABLE IF NOT EXISTS uploads (id INTEGER PRIMARY KEY AUTOINCREMENT, open_id TEXT,
    upload_id TEXT, title TEXT, status TEXT, created REAL);
CREATE TABLE IF NOT EXISTS deletions (request_id TEXT PRIMARY KEY, subject TEXT,
    reason TEXT, received REAL, rows_deleted INTEGER);
"""
FLOW_TTL_S = 600.0


class Store:
    """The app's own data; everything about a user is keyed by the app's pairwise `open_id`."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(data_dir / "tunetown.sqlite3", check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(SCHEMA)
            columns = [row[1] for row in self._db.execute("PRAGMA table_info(sessions)")]
            if "ended" not in columns:  # a file from before the column existed
                self._db.execute("ALTER TABLE sessions ADD COLUMN ended TEXT")

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        with self._lock, self._db:
            return self._db.execute(sql, args)

    def close(self) -> None:
        self._db.close()

    def save_flow(self, *, state: str, verifier: str, nonce: str, session_id: str) -> None:
        self._run(
            "INSERT INTO flows VALUES (?, ?, ?, ?, ?)",
            (state, verifier, nonce, session_id, time.time()),
        )

    def take_flow(self, *, state: str, session_id: str) -> tuple[str, str] | None:
        """The flow's (verifier, nonce), once: the row is claimed by its delete."""
        with self._lock, self._db:
            row = self._db.execute(
                "SELECT verifier, nonce, created FROM flows WHERE state = ? AND session_id = ?",
                (state, session_id),
            ).fetchone()
            if row is None:
                return None
            self._db.execute("DELETE FROM flows WHERE state = ?", (state,))
        if time.time() - row[2] > FLOW_TTL_S:
            return None
        return row[0], row[1]

    def bind_session(self, *, session_id: str, open_id: str | None) -> None:
        self._run(
            "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, NULL)",
            (session_id, open_id, time.time()),
        )

    def session_ended(self, session_id: str) -> bool:
        """Whether the session's user was deleted by a deletion request."""
        row = self._run("SELECT ended FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return row is not None and row[0] == "deleted"

    def session_user(self, session_id: str) -> str | None:
        row = self._run("SELECT open_id FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return None if row is None else row[0]

    def save_token(self, *, open_id: str, token: dict[str, Any]) -> None:
        self._run(
            "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)",
            (open_id, json.dumps(token), time.time()),
        )

    def token(self, open_id: str) -> dict[str, Any] | None:
        row = self._run("SELECT token FROM tokens WHERE open_id = ?", (open_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def drop_token(self, open_id: str) -> None:
        self._run("DELETE FROM tokens WHERE open_id = ?", (open_id,))

    def add_upload(self, *, open_id: str, upload_id: str, title: str, status: str) -> None:
        self._run(
            "INSERT INTO uploads (open_id, upload_id, title, status, created) "
            "VALUES (?, ?, ?, ?, ?)",
            (open_id, upload_id, title, status, time.time()),
        )

    def uploads(self, open_id: str) -> list[tuple[str, str, str]]:
        rows = self._run(
            "SELECT upload_id, title, status FROM uploads WHERE open_id = ? "
            "ORDER BY id DESC LIMIT 20",
            (open_id,),
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def delete_user(self, *, request_id: str, subject: str, reason: str) -> int:
        """Delete everything held for `subject`; a repeated request id deletes nothing twice."""
        with self._lock, self._db:
            if self._db.execute(
                "SELECT 1 FROM deletions WHERE request_id = ?", (request_id,)
            ).fetchone():
                return 0
            rows = 0
            for sql in (
                "DELETE FROM tokens WHERE open_id = ?",
                "DELETE FROM uploads WHERE open_id = ?",
                # The session row stays, without the user: the browser is told what happened.
                "UPDATE sessions SET open_id = NULL, ended = 'deleted' WHERE open_id = ?",
            ):
                rows += self._db.execute(sql, (subject,)).rowcount
            self._db.execute(
                "INSERT INTO deletions VALUES (?, ?, ?, ?, ?)",
                (request_id, subject, reason, time.time(), rows),
            )
            return rows

    def deletions(self) -> list[tuple[str, str, str, float, int]]:
        rows = self._run(
            "SELECT request_id, subject, reason, received, rows_deleted "
            "FROM deletions ORDER BY received DESC LIMIT 50"
        ).fetchall()
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]
