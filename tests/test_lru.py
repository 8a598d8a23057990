"""BytesLRU: bounded by the bytes of its values, least recently used out first, loads once."""
import numpy as np

from ui.lru import BytesLRU


def test_the_least_recently_used_values_go_first_once_the_bytes_exceed_the_budget():
    loads = []

    def load(n):
        return lambda: loads.append(n) or np.zeros(n, np.uint8)

    cache = BytesLRU(1000, lambda a: a.nbytes)
    a = cache.get("a", load(400))
    cache.get("b", load(400))
    assert cache.get("a", load(400)) is a and loads == [400, 400]  # a hit: not loaded again, now most recent
    cache.get("c", load(400))  # 1200 bytes: b (least recently used) goes
    assert len(cache) == 2 and cache.bytes == 800
    cache.get("b", load(400))
    assert loads == [400, 400, 400, 400] and cache.bytes == 800
    big = cache.get("big", load(2000))  # larger than the budget: returned, not kept
    assert big.nbytes == 2000 and cache.bytes == 800 and len(cache) == 2


def test_the_apps_store_sizes_nested_measurements_by_their_arrays():
    import numpy as np

    from ui.cache import nbytes

    series = {"hidden_0": {"epoch": np.arange(4), "ixt": np.zeros(4)}, "n": 3, "maps": [np.zeros((2, 3), np.float32)]}
    assert nbytes(series) == 4 * 8 + 4 * 8 + 8 + 2 * 3 * 4
