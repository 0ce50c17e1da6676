"""Background work with an owner: asyncio tasks that are cancelled and awaited together, and worker threads
that never hold a closing app."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class Tasks:
    """The tasks one owner started: it cancels them when their work goes stale and, on ``aclose``, cancels
    and awaits every one, so none is destroyed pending when the loop closes.

    A task that fails goes to ``sys.excepthook``, as qasync does for async slots: in the app that is the
    crash hook, which logs the error and shows it in the banner.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    def spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T] | None:
        """Start ``work`` in the background; an owner that has closed starts nothing (None)."""
        if self._closed:
            work.close()
            return None
        task = self._loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            sys.excepthook(type(error), error, error.__traceback__)

    def cancel(self) -> None:
        """Cancel every task (they finish on the loop's next turns; ``aclose`` waits for that)."""
        for task in self._tasks:
            task.cancel()

    async def aclose(self) -> None:
        """Cancel every task and wait until all have finished; nothing starts afterwards."""
        self._closed = True
        while self._tasks:
            pending = list(self._tasks)
            for task in pending:
                task.cancel()
            await asyncio.wait(pending)


async def in_daemon_thread(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``asyncio.to_thread`` in a daemon thread, which interpreter exit does not wait for.

    The default executor's threads are joined at exit, so a pack load or a first analysis in a fresh data
    folder (it embeds the demo pack's ~2,000 escalation examples) would hold a closing app for as long as
    it runs. Only work that is safe to abandon midway belongs here: a pack load commits with its catalog
    row, an analysis or a review writes nothing. Cancelling the caller stops waiting, not the thread.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(outcome: Callable[[], None]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits for this any more
            loop.call_soon_threadsafe(lambda: None if future.done() else outcome())

    def run() -> None:
        try:
            result = work(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 (not swallowed: the awaiting task raises it)
            failure = exc  # ``exc`` is unbound when the except block ends
            deliver(lambda: future.set_exception(failure))
        else:
            deliver(lambda: future.set_result(result))

    threading.Thread(target=run, name=getattr(work, "__qualname__", "worker"), daemon=True).start()
    return await future
