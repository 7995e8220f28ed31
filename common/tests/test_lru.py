"""The bounded LRU every in-process cache is built on (common.lru)."""

import threading

from common.lru import LRU


def test_it_keeps_at_most_its_byte_budget_dropping_the_least_recently_used():
    cache: LRU[bytes] = LRU(max_entries=100, max_bytes=1000, weigh=len)
    for n in range(50):
        cache.put(("answer", n), b"x" * 100)
        cache.get(("answer", 0))  # kept in use

    assert (cache.bytes, len(cache)) == (1000, 10)
    assert cache.get(("answer", 0)) is not None
    assert cache.get(("answer", 1)) is None
    assert cache.get(("answer", 49)) is not None
    assert cache.put(("huge",), b"x" * 1001) is False
    assert cache.get(("huge",)) is None and len(cache) == 10


def test_it_keeps_at_most_its_entries_and_a_replaced_value_is_weighed_once():
    cache: LRU[bytes] = LRU(max_entries=3, max_bytes=10_000, weigh=len)
    for key in "abcd":
        cache.put(key, b"12")
    cache.put("d", b"1234")

    assert [cache.get(key) for key in "abcd"] == [None, b"12", b"12", b"1234"]
    assert cache.bytes == 8


def test_dropping_by_value_and_clearing_return_the_bytes():
    cache: LRU[bytes] = LRU(max_entries=10, max_bytes=100, weigh=len)
    for key, value in {"a": b"keep", "b": b"drop", "c": b"drop!"}.items():
        cache.put(key, value)

    assert cache.drop_where(lambda value: value.startswith(b"drop")) == 2
    assert (cache.get("a"), cache.get("b"), cache.bytes) == (b"keep", None, 4)
    cache.clear()
    assert (len(cache), cache.bytes) == (0, 0)


def test_concurrent_writers_never_break_the_bounds():
    cache: LRU[bytes] = LRU(max_entries=50, max_bytes=2000, weigh=len)

    def write(offset: int) -> None:
        for n in range(2000):
            cache.put(offset + n % 300, b"x" * (n % 97))
            cache.get(offset + (n * 7) % 300)

    threads = [threading.Thread(target=write, args=(t * 1000,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(cache) <= 50 and cache.bytes <= 2000
    assert cache.bytes == sum(len(cache.get(key) or b"") for key in list(cache._entries))
