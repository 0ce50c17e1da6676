"""The Qt binding must not lose references to Python's singletons.

PySide6 6.12.0's ``Signal.emit`` dropped one reference to ``True`` per call; the panel emits
thousands of signals, so a long session (or the test suite) ended in a fatal
"deallocating True or False"/"deallocating None" abort. pyproject.toml excludes that release; this
test keeps a future release with the same fault from slipping in.
"""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    bare = Signal()
    payload = Signal(object)


def _singleton_counts() -> tuple[int, int, int]:
    return sys.getrefcount(True), sys.getrefcount(False), sys.getrefcount(None)


def test_emitting_signals_keeps_the_singletons_references(qapp: object) -> None:
    emitter = _Emitter()
    emitter.bare.connect(lambda: None)
    emitter.payload.connect(lambda _value: None)
    before = _singleton_counts()
    for _ in range(200):
        emitter.bare.emit()
        emitter.payload.emit(None)
        emitter.payload.emit(True)
    assert _singleton_counts() == before
