import pytest
from hypothesis import given
from hypothesis import strategies as st

from playback.ranges import ByteRange, MalformedRange, UnsatisfiableRange, parse_range


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-", 100, ByteRange(0, 99)),
        ("bytes=0-0", 100, ByteRange(0, 0)),
        ("bytes=10-19", 100, ByteRange(10, 19)),
        ("bytes=90-500", 100, ByteRange(90, 99)),
        ("bytes=-10", 100, ByteRange(90, 99)),
        ("bytes=-500", 100, ByteRange(0, 99)),
        ("bytes=99-", 100, ByteRange(99, 99)),
        (" bytes=5-6 ", 100, ByteRange(5, 6)),
        ("bytes=0-1,5-6", 100, None),
    ],
)
def test_satisfiable_ranges(header, size, expected):
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [("bytes=100-", 100), ("bytes=100-200", 100), ("bytes=-0", 100), ("bytes=0-", 0)],
)
def test_unsatisfiable_ranges(header, size):
    with pytest.raises(UnsatisfiableRange):
        parse_range(header, size)


@pytest.mark.parametrize(
    "header",
    ["", "bytes", "bytes=", "bytes=-", "bytes=abc", "bytes=5-1", "items=0-1", "bytes=1-2-3",
     "bytes=0-1,", "bytes=--5", "bytes=0x10-20"],
)  # fmt: skip
def test_malformed_ranges(header):
    with pytest.raises(MalformedRange):
        parse_range(header, 100)


@given(size=st.integers(1, 10_000), start=st.integers(0, 12_000), length=st.integers(1, 12_000))
def test_a_range_is_the_python_slice_of_the_file(size, start, length):
    end = start + length - 1
    data = bytes(i % 251 for i in range(size))
    if start >= size:
        with pytest.raises(UnsatisfiableRange):
            parse_range(f"bytes={start}-{end}", size)
        return
    wanted = parse_range(f"bytes={start}-{end}", size)
    assert data[wanted.start : wanted.end + 1] == data[start : end + 1]
    suffix = parse_range(f"bytes=-{length}", size)
    assert data[suffix.start : suffix.end + 1] == data[-length:]
