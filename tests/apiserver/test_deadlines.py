"""The request deadline checker: it cancels what ran out, and only that."""

from __future__ import annotations

import asyncio

from apiserver.deadlines import Deadlines


async def _run(deadlines: Deadlines, seconds: float) -> str:
    task = asyncio.current_task()
    assert task is not None
    deadlines.enter(task)
    try:
        await asyncio.sleep(seconds)
        return "done"
    except asyncio.CancelledError:
        if deadlines.leave(task):
            return "timed out"
        raise
    finally:
        deadlines.leave(task)


async def test_a_request_past_its_deadline_is_cancelled_and_told_so() -> None:
    deadlines = Deadlines(0.05)
    started = asyncio.get_running_loop().time()
    assert await _run(deadlines, 5) == "timed out"
    assert asyncio.get_running_loop().time() - started < 0.5  # within a tick or two of the deadline


async def test_requests_within_their_deadline_finish_and_the_checker_stops() -> None:
    deadlines = Deadlines(0.2)
    assert await asyncio.gather(*(_run(deadlines, 0.01) for _ in range(50))) == ["done"] * 50
    await asyncio.sleep(0.2)
    assert deadlines._timer is None and not deadlines._running


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    deadlines = Deadlines(10)
    task = asyncio.create_task(_run(deadlines, 5))
    await asyncio.sleep(0.01)
    task.cancel()
    try:
        await task
        raise AssertionError("the task should have been cancelled")
    except asyncio.CancelledError:
        pass
