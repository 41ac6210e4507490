"""Keyed hashes and pairwise ids: a property test over random triples, and the rotation order."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from auth.domain.identity import LookupKeys, lookup_id, new_user_key, pairwise_subject

SECRET = b"a pairwise secret of the test, not a real one"
ids = st.text(alphabet=string.ascii_letters + string.digits + "_-.:", min_size=1, max_size=60)


@settings(max_examples=1500, deadline=None)
@given(user=ids, app_a=ids, app_b=ids)
def test_app_ids_are_stable_per_app_differ_across_apps_and_hide_the_user_key(
    user: str, app_a: str, app_b: str
) -> None:
    a = pairwise_subject(SECRET, user_key=user, app_id=app_a)
    assert a == pairwise_subject(SECRET, user_key=user, app_id=app_a)
    if app_a != app_b:
        assert a != pairwise_subject(SECRET, user_key=user, app_id=app_b)
    assert a != user
    assert user not in a or len(user) < 4  # a short key may appear in base64 by chance
    assert len(a) == 64
    assert a.isalnum()  # hex: always a valid event Identifier


def test_real_user_keys_never_appear_in_their_app_ids() -> None:
    for n in range(1000):
        user = new_user_key()
        subject = pairwise_subject(SECRET, user_key=user, app_id=f"app-{n}")
        assert user not in subject
        assert user.replace("-", "") not in subject


def test_the_split_between_user_key_and_app_is_unambiguous() -> None:
    assert pairwise_subject(SECRET, user_key="ab", app_id="c") != pairwise_subject(
        SECRET, user_key="a", app_id="bc"
    )


def test_lookup_ids_come_current_key_first_and_differ_per_key() -> None:
    keys = LookupKeys(keys={"old": b"k-old", "new": b"k-new"}, current="new")
    pairs = keys.ids(e164="+12015550123")
    assert [k for k, _ in pairs] == ["new", "old"]
    assert pairs[0][1] == lookup_id(b"k-new", e164="+12015550123")
    assert pairs[0][1] != pairs[1][1]
    assert "2015550123" not in pairs[0][1]


def test_user_keys_are_uuid7() -> None:
    key = new_user_key()
    assert key[14] == "7"
    assert key != new_user_key()
