"""Background: calls run in order on one thread; a failure comes back to the caller."""
import pytest

from lab.store.background import Background


def test_calls_run_in_order_and_close_waits_for_them():
    done: list[int] = []
    bg = Background(depth=1)
    for i in range(20):
        bg.submit(done.append, i)
    bg.close()
    assert done == list(range(20))


def test_an_error_is_raised_again_and_later_calls_are_dropped():
    done: list[int] = []

    def fail() -> None:
        raise OSError("disk full")

    bg = Background()
    with pytest.raises(OSError, match="disk full"):  # at the next submit or at close, whichever comes first
        bg.submit(fail)
        bg.submit(done.append, 1)
        bg.close()
    assert done == []
