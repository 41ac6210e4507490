"""Stands in for the deletion requests until the deletions area is merged (it replaces this).

It logs each request it is handed and returns the id the request will have; it sends nothing,
so a deployment must not run without the deletions area (the README says so).
"""

from __future__ import annotations

import hashlib
import logging

log = logging.getLogger(__name__)


class UnwiredDeletionRequests:
    """A `DeletionRequester` that only logs (no webhook, no store)."""

    async def request(
        self,
        *,
        app_id: str,
        user_key: str,
        consent_id: str,
        consent_version: int,
        pairwise_subject: str,
        reason: str,
    ) -> str:
        """The request's id (the same for the same consent version); nothing is sent."""
        del user_key  # a deletion request never carries the user key
        request_id = (
            "dr_" + hashlib.sha256(f"{consent_id}#{consent_version}".encode()).hexdigest()[:32]
        )
        log.warning(
            "deletion requests are not wired yet: nothing sent",
            extra={
                "app_id": app_id,
                "consent_id": consent_id,
                "request_id": request_id,
                "reason": reason,
            },
        )
        return request_id
