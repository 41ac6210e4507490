"""The registry's settings: a claim lease must outlast a publish by far."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from auth.config import AuthSettings


def test_a_claim_lease_shorter_than_four_publish_deadlines_is_refused() -> None:
    with pytest.raises(ValidationError, match="apps_claim_lease_s"):
        AuthSettings(environment="development", publish_deadline_s=5.0, apps_claim_lease_s=19.0)
    settings = AuthSettings(environment="development", publish_deadline_s=5.0)
    assert (settings.apps_claim_lease_s, settings.apps_max_attempts) == (60.0, 25)
    assert settings.apps_max_per_developer == 100
