"""Realistic domain events for audit tests."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from shared.events.auth import AppRegistered, AppTermsUpdated, UserLoggedIn
from shared.events.consent import ConsentGranted, ConsentInvalidated, ConsentRevoked
from shared.events.sound import SoundIngested
from shared.events.transfer import TransferRecorded

SCOPES = ("user.info.basic", "video.list")


def app_registered(app_id: str, *, terms: str = "t1") -> AppRegistered:
    return AppRegistered(
        app_id=app_id,
        name="Test App",
        redirect_uris=("https://a.test/cb",),
        allowed_scopes=SCOPES,
        terms_version=terms,
        terms_url="https://a.test/terms",
        retention_days=30,
    )


def terms_updated(app_id: str, *, new: str, old: str = "t1") -> AppTermsUpdated:
    return AppTermsUpdated(
        app_id=app_id,
        terms_version=new,
        previous_terms_version=old,
        terms_url="https://a.test/terms2",
        retention_days=30,
    )


def logged_in(user: str) -> UserLoggedIn:
    return UserLoggedIn(user_key=user, session_id=f"s_{uuid.uuid4().hex[:8]}")


def granted(
    user: str,
    app_id: str,
    *,
    consent_id: str = "c1",
    version: int = 1,
    scopes: tuple[str, ...] = SCOPES,
    terms: str = "t1",
) -> ConsentGranted:
    return ConsentGranted(
        user_key=user,
        app_id=app_id,
        consent_id=consent_id,
        version=version,
        scopes=scopes,
        terms_version=terms,
        retention_days=30,
    )


def revoked(user: str, app_id: str, *, consent_id: str = "c1", version: int = 2) -> ConsentRevoked:
    return ConsentRevoked(user_key=user, app_id=app_id, consent_id=consent_id, version=version)


def invalidated(
    user: str, app_id: str, *, consent_id: str = "c1", version: int = 2, new_terms: str = "t2"
) -> ConsentInvalidated:
    return ConsentInvalidated(
        user_key=user,
        app_id=app_id,
        consent_id=consent_id,
        version=version,
        terms_version="t1",
        new_terms_version=new_terms,
    )


def sound_ingested(user: str, app_id: str) -> SoundIngested:
    return SoundIngested(
        user_key=user,
        app_id=app_id,
        upload_id=f"up_{uuid.uuid4().hex[:8]}",
        sound_id=f"snd_{uuid.uuid4().hex[:8]}",
        media_type="audio/flac",
        duration_ms=3000,
        size_bytes=1024,
        sha256="ab" * 32,
    )


def transfer(
    user: str,
    app_id: str,
    *,
    when: datetime,
    consent_id: str = "c1",
    scopes: tuple[str, ...] = ("user.info.basic",),
    terms: str = "t1",
    version: int = 1,
) -> TransferRecorded:
    body = f"{user}{app_id}{when.isoformat()}".encode()
    return TransferRecorded(
        transfer_id=f"tr_{uuid.uuid4().hex[:12]}",
        app_id=app_id,
        pairwise_subject="ps_x",
        user_key=user,
        consent_id=consent_id,
        consent_version=version,
        terms_version=terms,
        scopes_used=scopes,
        fields_released=("display_name", "avatar_url"),
        purpose="login",
        request_id=f"rq_{uuid.uuid4().hex[:8]}",
        released_at=when,
        digest_sha256=hashlib.sha256(body).hexdigest(),
    )
