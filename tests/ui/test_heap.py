"""While the workspace opens nothing is collected; what it built is frozen afterwards, even when opening fails."""

from __future__ import annotations

import gc

import pytest

from ui import heap


def test_loading_pauses_collection_and_freezes_what_it_built() -> None:
    before = gc.get_freeze_count()
    try:
        with heap.loading():
            assert not gc.isenabled()
            built = [[n] for n in range(1000)]
        assert gc.isenabled()
        assert gc.get_freeze_count() >= before + len(built)
    finally:
        gc.unfreeze()


def test_a_failed_load_turns_collection_back_on() -> None:
    try:
        with pytest.raises(RuntimeError), heap.loading():
            raise RuntimeError("the pack did not load")
        assert gc.isenabled()
    finally:
        gc.unfreeze()
