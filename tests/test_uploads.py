"""Uploads (lab/data/uploads.py): checked like any data file, stored once by content hash beside
the runs; an unsafe or oversized zip is refused while it is unpacked and leaves nothing behind."""
import hashlib
import io
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lab.data import read_file
from lab.data.uploads import stored, store, uploads_folder
from lab.errors import DataError

TABLE = b"a,b,kind\n" + b"".join(f"{i},{i % 3},{'xyz'[i % 3]}\n".encode() for i in range(30))


def check(kind: str, path: Path) -> None:
    read_file(kind, str(path))


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (6, 6), 128).save(buf, format="PNG")
    return buf.getvalue()


def _zip(members: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return buf.getvalue()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_table_is_stored_once_under_its_content_hash_beside_the_runs(tmp_path):
    folder = uploads_folder(tmp_path / "runs")
    assert folder == tmp_path / "data" / "uploads"
    first = store("My Wine.csv", TABLE, folder, check, 200)
    assert first.parent.parent == folder and first.name == "My_Wine.csv" and first.read_bytes() == TABLE
    assert first.parent.name == hashlib.sha256(TABLE).hexdigest()[:16]
    assert store("My Wine.csv", TABLE, folder, check, 200) == first and stored(folder) == [first]
    assert stored(folder, "table") == [first] and stored(folder, "images") == []
    assert read_file("table", str(first))[0].classes == ["x", "y", "z"]


def test_an_image_folder_zip_is_unpacked_and_its_wrapping_folder_skipped(tmp_path):
    folder = tmp_path / "up"
    members = {f"pets/{c}/{i}.png": _png() for c in ("cat", "dog") for i in range(3)}
    root = store("pets.zip", _zip(members), folder, check, 200)
    assert root.name == "pets" and sorted(p.name for p in root.iterdir()) == ["cat", "dog"]
    assert stored(folder, "images") == [root] and stored(folder, "arrays") == []
    assert read_file("images", str(root))[0].x.shape == (6, 1, 28, 28)


@pytest.mark.parametrize("name, content, needle", [
    ("bad.csv", b"a,b,y\n1,2,x\noops,3,y\n", "bad.csv, row 3, column 'a': 'oops' is not a number"),
    ("e.csv", b"", "e.csv is empty"),
    ("data.pkl", b"x", "the lab takes .csv, .tsv, .npz, .zip uploads"),
    ("big.csv", b"1,x\n" * 300_000, "uploads are capped at 1 MB"),
    ("junk.zip", b"not a zip", "junk.zip is not a readable zip file"),
    ("up.zip", _zip({"../evil.png": b"x"}), "'../evil.png' points outside its folder"),
    ("abs.zip", _zip({"/tmp/evil.png": b"x"}), "'/tmp/evil.png' points outside its folder"),
    ("link.zip", _zip({"a/x.png": b"x"}, links=("a/evil.png",)), "'a/evil.png' is a link"),
    ("bomb.zip", _zip({"a/zeros.png": bytes(6 << 20)}), "unpacks to more than 5 MB"),
    ("noimg.zip", _zip({"a/readme.txt": b"hi"}), "holds no images"),
])
def test_a_bad_upload_is_refused_in_one_line_and_leaves_nothing(tmp_path, name, content, needle):
    folder = tmp_path / "data" / "uploads"
    with pytest.raises(DataError) as e:
        store(name, content, folder, check, cap_mb=1)
    assert needle in str(e.value) and "\n" not in str(e.value)
    assert _leftovers(folder) == [] and _leftovers(tmp_path) in ([], ["data"])  # no temporary file left either
    assert not Path("/tmp/evil.png").exists() or name != "abs.zip"


def test_a_zip_bomb_is_stopped_while_it_is_written_not_after(tmp_path):
    bomb = _zip({"a/zeros.png": bytes(40 << 20)})
    assert len(bomb) < 100_000  # highly compressible: its declared size is all the caps could go by
    with pytest.raises(DataError, match="unpacks to more than 5 MB"):
        store("bomb.zip", bomb, tmp_path, check, cap_mb=1)
    assert _leftovers(tmp_path) == []


def test_an_npz_upload_is_read_without_pickle(tmp_path):
    buf = io.BytesIO()
    np.savez(buf, x=np.random.default_rng(0).random((20, 4)), y=np.arange(20) % 2)
    path = store("a.npz", buf.getvalue(), tmp_path, check, 200)
    assert path.suffix == ".npz" and read_file("arrays", str(path))[0].x.shape == (20, 4)


def test_a_zip_of_too_many_files_is_refused_before_any_is_written(tmp_path, monkeypatch):
    import lab.data.uploads

    monkeypatch.setattr(lab.data.uploads, "MAX_FILES", 3)
    members = {f"pets/{c}/{i}.png": _png() for c in ("cat", "dog") for i in range(2)}
    with pytest.raises(DataError, match=r"The zip holds 4 entries \(at most 3\); zip fewer files."):
        store("pets.zip", _zip(members), tmp_path / "up", check, 200)
    assert _leftovers(tmp_path / "up") == []
