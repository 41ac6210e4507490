"""The development SMS sender keeps only the last code per number, in memory (issue 15, 1)."""

from __future__ import annotations

from auth.adapters.sms_dev import DevSmsSender


async def test_the_last_code_per_number_is_kept() -> None:
    sms = DevSmsSender()
    await sms.send(to="+442079460001", body="Your code is 111111. It expires in 5 minutes.")
    await sms.send(to="+442079460001", body="Your code is 222222. It expires in 5 minutes.")
    await sms.send(to="+442079460002", body="Your code is 333333.")
    assert sms.last_code("+442079460001") == "222222"
    assert sms.last_code("+442079460002") == "333333"
    assert sms.last_code("+442079460003") is None


async def test_numbers_are_not_kept_in_clear_and_memory_is_bounded() -> None:
    sms = DevSmsSender(max_numbers=3)
    for i in range(5):
        await sms.send(to=f"+44207946000{i}", body=f"code {i}{i}{i}{i}{i}{i}")
    kept = vars(sms)["_codes"]
    assert len(kept) == 3
    assert not any("7946" in key for key in kept)
    assert sms.last_code("+442079460000") is None  # the oldest went first
    assert sms.last_code("+442079460004") == "444444"


async def test_a_message_without_a_code_keeps_nothing() -> None:
    sms = DevSmsSender()
    await sms.send(to="+442079460001", body="Welcome!")
    assert sms.last_code("+442079460001") is None
