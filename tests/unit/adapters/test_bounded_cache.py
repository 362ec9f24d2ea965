"""The one bounded cache of the adapters: bounded, oldest stored first out."""

import threading

import pytest

from adapters.bounded_cache import BoundedCache


def test_keep_returns_the_value_and_reads_find_it() -> None:
    cache: BoundedCache[str, int] = BoundedCache(3)
    assert cache.keep("a", 1) == 1
    assert cache.get("a") == 1 and "a" in cache and cache["a"] == 1
    assert cache.get("b") is None


def test_the_oldest_stored_goes_first_when_full() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.keep("a", 1)
    cache.keep("b", 2)
    assert cache.get("a") == 1  # a read does not renew "a"
    cache.keep("c", 3)
    assert list(cache.items()) == [("b", 2), ("c", 3)]


def test_storing_a_key_again_renews_it_without_growing() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.keep("a", 1)
    cache.keep("b", 2)
    cache.keep("a", 10)
    cache.keep("c", 3)
    assert list(cache.items()) == [("a", 10), ("c", 3)]


def test_never_holds_more_than_its_limit() -> None:
    cache: BoundedCache[int, int] = BoundedCache(100)
    for i in range(10_000):
        cache.keep(i, i * i)
        assert len(cache) <= 100
    assert sorted(cache) == list(range(9_900, 10_000))
    assert all(cache[i] == i * i for i in cache)


def test_threads_storing_at_once_keep_it_bounded_and_whole() -> None:
    # Unlocked, each other writer may add one entry past the check.
    cache: BoundedCache[tuple[int, int], int] = BoundedCache(50)

    def store(worker: int) -> None:
        for i in range(5_000):
            cache.keep((worker, i), i)

    workers = [threading.Thread(target=store, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert 1 <= len(cache) <= 50 + 3
    assert all(cache[key] == key[1] for key in list(cache))


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match="limit of 1 or more"):
        BoundedCache(limit)
