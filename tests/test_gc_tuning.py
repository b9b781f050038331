"""The serving process's collector settings (bot/gc_tuning.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot import gc_tuning


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_start_up_objects_leave_the_collections_and_young_ones_are_collected_less_often() -> None:
    survivor = [object()]  # alive at start-up, as routers and mappers are

    gc_tuning.tune_for_serving()

    assert gc.get_freeze_count() > 0
    assert gc.is_tracked(survivor) and not any(each is survivor for each in gc.get_objects(generation=2))
    assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, *gc_tuning.OLDER_THRESHOLDS)


@pytest.mark.usefixtures("restored_gc")
def test_cycles_made_after_start_up_are_still_collected() -> None:
    gc_tuning.tune_for_serving()

    class Node:
        other: object

    first, second = Node(), Node()
    first.other, second.other = second, first
    del first, second

    assert gc.collect() >= 2
