"""What an app receives: the Standard Webhooks payload of a deletion request, and its secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

from consent.service.deletion_ports import DeletionRequest

EVENT_TYPE = "consent.deletion_requested"


def webhook_secret(*, key: bytes, app_id: str) -> str:
    """The app's signing secret: `whsec_` + base64(HMAC-SHA256(key, "webhook\\0" + app id))."""
    digest = hmac.new(key, b"webhook\0" + app_id.encode(), hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(digest).decode()


def webhook_body(request: DeletionRequest) -> str:
    """The JSON body (the same bytes on every attempt): the app's id for the user, never the key."""
    payload = {
        "type": EVENT_TYPE,
        "timestamp": _iso(request.requested_at),
        "data": {
            "request_id": request.request_id,
            "consent_id": request.consent_id,
            "subject": request.pairwise_subject,
            "reason": request.reason,
            "requested_at": _iso(request.requested_at),
            "deadline": _iso(request.deadline),
        },
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
