"""The garbage collector kept off the window's back.

A full collection walks every container object the process holds and runs on whichever thread
allocates at the time, holding the GIL throughout. After start-up that is a few hundred thousand
objects (Qt bindings, chromadb, SQLAlchemy, the pack), so a worker thread loading a pack or language
profiles triggered collections that froze the GUI thread for 40-150 ms. Objects that live as long as
the app are moved out of the collector's sight with ``gc.freeze``; cycles made later are still found.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


def settle_startup() -> None:
    """Before the first paint: collect what start-up left behind (it would never be freed once frozen),
    then freeze the rest, which the app keeps until it exits."""
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """While the workspace opens (pack, indexes, classifiers, language profiles, built in worker threads):
    no automatic collection, whose walks over the growing heap paused the window; then freeze what was
    built, as the app keeps it. The garbage cycles made meanwhile are kept too: a one-off few MB."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
