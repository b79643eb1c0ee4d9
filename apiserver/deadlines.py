"""The request timeout: one timer for all requests instead of one per request.

`asyncio.timeout` schedules and cancels a loop timer and walks a context manager for every request,
which cost more than a tenth of a short request's time. Here a request registers its task and
deadline in a dict; one periodic check cancels the tasks that ran out, so a timeout fires up to one
tick (a quarter of the timeout, at most a second) late, as kube's own timeout handler is no exact clock either.
"""

from __future__ import annotations

import asyncio


class Deadlines:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.tick = min(1.0, timeout / 4)
        self._running: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def enter(self, task: asyncio.Task[object]) -> None:
        loop = task.get_loop()
        self._running[task] = loop.time() + self.timeout
        if self._timer is None:
            self._timer = loop.call_later(self.tick, self._check, loop)

    def leave(self, task: asyncio.Task[object]) -> bool:
        """Unregister; True if the task was cancelled for running out of time (its cancellation undone)."""
        self._running.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            task.uncancel()
            return True
        return False

    def _check(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        for task, deadline in list(self._running.items()):
            if deadline <= now and task not in self._expired:
                self._expired.add(task)
                task.cancel()
        if self._running:
            self._timer = loop.call_later(self.tick, self._check, loop)
