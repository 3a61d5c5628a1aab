"""The GET-best cache: one load per job at a time, stale answers while it reloads, errors
reach the requests that wait and no stale answer outlives a failed reload."""

from __future__ import annotations

import asyncio

import pytest

from dynas_service.api.best_cache import BestCache


class Loader:
    """Counts loads; each returns b"v<n>" after ``delay`` seconds, or raises ``error``."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.calls = 0
        self.error: Exception | None = None

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return f"v{self.calls}".encode()


def test_concurrent_first_requests_share_one_load() -> None:
    async def scenario() -> None:
        cache, load = BestCache(ttl=10), Loader()
        bodies = await asyncio.gather(*(cache.body("j", load) for _ in range(50)))
        assert set(bodies) == {b"v1"} and load.calls == 1
        assert await cache.body("j", load) == b"v1" and load.calls == 1  # fresh: no load

    asyncio.run(scenario())


def test_expired_entries_answer_stale_while_one_reload_runs() -> None:
    async def scenario() -> None:
        cache, load = BestCache(ttl=0.5), Loader(delay=0.05)
        assert await cache.body("j", load) == b"v1"
        await asyncio.sleep(0.55)  # expired, but younger than 2 ttl
        stale = await asyncio.gather(*(cache.body("j", load) for _ in range(20)))
        assert set(stale) == {b"v1"} and load.calls == 2  # answered at once, one reload
        await asyncio.sleep(0.08)  # the reload landed
        assert await cache.body("j", load) == b"v2" and load.calls == 2


def test_a_body_older_than_two_ttl_is_never_answered() -> None:
    async def scenario() -> None:
        cache, load = BestCache(ttl=0.02), Loader(delay=0.02)
        assert await cache.body("j", load) == b"v1"
        await asyncio.sleep(0.05)  # nobody polled for a while
        bodies = await asyncio.gather(*(cache.body("j", load) for _ in range(10)))
        assert set(bodies) == {b"v2"} and load.calls == 2  # waited for one fresh load

    asyncio.run(scenario())

    asyncio.run(scenario())


def test_load_errors_reach_waiters_and_drop_stale_entries() -> None:
    async def scenario() -> None:
        cache, load = BestCache(ttl=0.3), Loader()
        load.error = LookupError("no best yet")
        results = await asyncio.gather(*(cache.body("j", load) for _ in range(5)),
                                       return_exceptions=True)
        assert all(isinstance(r, LookupError) for r in results) and load.calls == 1
        load.error = None
        assert await cache.body("j", load) == b"v2"
        await asyncio.sleep(0.35)
        load.error = LookupError("job deleted")
        assert await cache.body("j", load) == b"v2"  # stale, while the reload fails
        await asyncio.sleep(0.1)
        with pytest.raises(LookupError):  # no stale answer after a failed reload
            await cache.body("j", load)

    asyncio.run(scenario())


def test_forget_and_bad_ttl() -> None:
    async def scenario() -> None:
        cache, load = BestCache(ttl=10), Loader()
        await cache.body("j", load)
        cache.forget("j")
        assert await cache.body("j", load) == b"v2"

    asyncio.run(scenario())
    with pytest.raises(ValueError, match="ttl"):
        BestCache(ttl=-1)
