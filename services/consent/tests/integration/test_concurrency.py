"""32 concurrent changes to one consent leave one linear history (real database and broker)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from consent.adapters.mongo_consents import VERSIONS, MongoConsents
from consent.domain.model import next_consent_id
from consent.service.consents import Outcome
from consent_testing import ConsentHarness, new_app, new_user
from kits_testing import read_topic
from shared.events import parse

pytestmark = pytest.mark.integration
WRITERS = 32


def change(consent: ConsentHarness, user: str, app: str, n: int, revoke_of: str) -> Any:
    consents = consent.container.consents
    if n % 8 == 7:  # four of the 32 revoke the first consent
        return consents.revoke(user_key=user, consent_id=revoke_of)
    return consents.grant(
        user_key=user,
        app_id=app,
        scopes=("user.info.basic", "video.list")[: 1 + n % 2],
        purpose=f"purpose {n}",
        pairwise_subject="ps_concurrent",
    )


async def test_32_concurrent_changes_write_each_version_once(
    consent: ConsentHarness, servers: Any
) -> None:
    user, app = new_user(), new_app()
    await consent.register(app)
    first = await consent.container.consents.grant(
        user_key=user, app_id=app, scopes=("video.list",), purpose="p", pairwise_subject="ps_c"
    )
    assert first.consent is not None
    cid = first.consent.consent_id
    results = await asyncio.gather(*(change(consent, user, app, n, cid) for n in range(WRITERS)))
    grants = sum(1 for r in results if isinstance(r, Outcome) and r.changed)
    made = 1 + grants + 1  # the first grant, the grants that changed, the one revoke that did

    store = MongoConsents(consent.container.runtime.db)
    docs = await store.every(VERSIONS, {"user_key": user})
    by_consent: dict[str, list[int]] = {}
    for d in docs:
        by_consent.setdefault(d["consent_id"], []).append(d["version"])
        assert d["published"] is True
    chain, ids = [], cid
    while ids in by_consent:
        chain.append(sorted(by_consent[ids]))
        ids = next_consent_id(ids)
    assert sum(len(v) for v in chain) == len(docs) == made  # every doc is on the chain
    for versions in chain:
        assert versions == list(range(1, len(versions) + 1))  # none skipped or doubled
    assert [v[-1] for v in chain][:1] == [len(chain[0])]
    assert len(chain) in (1, 2)  # the revoke ends the first consent; later grants start one more

    records = await read_topic(servers.kafka, consent.events_topic, count=len(docs))
    events = [parse(r.value) for r in records]
    announced = {(e.data.consent_id, e.data.version): e.id for e in events}
    assert len(announced) == len(docs)
    assert len({e.id for e in events}) == len(announced)  # each version announced by one event
    latest = await consent.container.consents.latest(user_key=user, app_id=app)
    assert latest is not None
    assert latest.consent_id == (cid if len(chain) == 1 else ids_of(cid))
    revoked = await consent.container.consents.latest_of(cid)
    assert (revoked.status, revoked.version) == ("revoked", len(chain[0]))


def ids_of(cid: str) -> str:
    return next_consent_id(cid)
