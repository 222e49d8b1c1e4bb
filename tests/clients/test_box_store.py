"""The Box adapter with the real box_sdk_gen (real JWT) against the Box simulator."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from clients.box import BoxStore, HashingReader
from clients.errors import AlreadyExists, IntegrityError, TransientError


@pytest.fixture
def store(box) -> BoxStore:
    return box.store(chunked_threshold=1024 * 1024)


def chunks(data: bytes, size: int = 64 * 1024):
    return (data[i:i + size] for i in range(0, len(data), size))


def test_folder_path_is_created_once_even_under_races(store: BoxStore, box) -> None:
    def make(_: int) -> str:
        return store.ensure_folder_path("0", ["C1-Spring", "Social", "Stories"])

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(make, range(16)))
    assert len(ids) == 1
    # another process (a fresh adapter, empty cache) adopts the existing folders via 409
    other = BoxStore(store._client)
    assert other.ensure_folder_path("0", ["C1-Spring", "Social", "Stories"]) in ids
    paths = sorted(f["path"] for f in box.sim.folders())
    assert paths.count("C1-Spring/Social/Stories") == 1


def test_small_upload_streams_and_verifies_sha1(store: BoxStore, box) -> None:
    data = os.urandom(300_000)
    folder = store.ensure_folder_path("0", ["up"])
    stored = store.upload_stream(folder, "AB23CD_hero.jpg", chunks(data), len(data))
    assert stored.sha1 == hashlib.sha1(data).hexdigest() and stored.size == len(data)
    assert store.find_file(folder, "AB23CD_hero.jpg") == store.get_file(stored.id)
    assert store.find_file(folder, "missing.jpg") is None


def test_big_upload_goes_in_parts(store: BoxStore, box) -> None:
    data = os.urandom(3 * 1024 * 1024 + 12345)
    folder = store.ensure_folder_path("0", ["big"])
    stored = store.upload_stream(folder, "big.mov", chunks(data, 1024 * 1024), len(data))
    assert stored.sha1 == hashlib.sha1(data).hexdigest()
    requests = httpx.get(box.base_url + "/_sim/requests").json()["requests"]
    assert any("upload_sessions" in r["path"] for r in requests)


def test_short_source_is_refused_not_uploaded_truncated(store: BoxStore, box) -> None:
    folder = store.ensure_folder_path("0", ["short"])
    with pytest.raises((IntegrityError, TransientError)):
        store.upload_stream(folder, "short.jpg", chunks(b"x" * 1000), 5000)
    assert [f for f in box.sim.files() if f["name"] == "short.jpg"] == []


@pytest.mark.parametrize("size", [200_000, 2 * 1024 * 1024], ids=["simple upload", "upload session"])
def test_upload_over_an_existing_name_says_which_file_and_changes_nothing(store: BoxStore, box, size: int) -> None:
    folder = store.ensure_folder_path("0", ["again"])
    first = store.upload_stream(folder, "ZX12CV_spot.mp4", chunks(b"a" * size), size)
    with pytest.raises(AlreadyExists) as raised:
        store.upload_stream(folder, "ZX12CV_spot.mp4", chunks(b"b" * size), size)
    assert raised.value.existing_id == first.id
    assert [f["sha1"] for f in box.sim.files()] == [first.sha1]


def test_hashing_reader_reads_in_pieces() -> None:
    reader = HashingReader(iter([b"abc", b"defg", b"h"]), expected_size=8)
    assert reader.read(2) + reader.read(5) + reader.read(10) + reader.read(10) == b"abcdefgh"
    assert reader.sha1 == hashlib.sha1(b"abcdefgh").hexdigest()
    assert HashingReader(iter([b"ab"]), expected_size=2).read() == b"ab"


def test_walk_files_pages_with_markers_and_recurses(store: BoxStore, box) -> None:
    root = store.ensure_folder_path("0", ["agency"])
    nested = store.ensure_folder_path(root, ["Italy", "Lazio"])
    for i in range(7):
        store.upload_stream(root, f"f{i}.jpg", chunks(b"%d" % i), len(b"%d" % i))
    store.upload_stream(nested, "deep.jpg", chunks(b"deep"), 4)
    found = {("/".join(path), f.name) for path, f in store.walk_files(root, page_size=3)}
    assert found == {("", f"f{i}.jpg") for i in range(7)} | {("Italy/Lazio", "deep.jpg")}


def test_download_streams_the_bytes_back(store: BoxStore) -> None:
    data = os.urandom(2_500_000)
    folder = store.ensure_folder_path("0", ["dl"])
    stored = store.upload_stream(folder, "x.bin", chunks(data), len(data))
    assert b"".join(store.iter_file_bytes(stored.id, chunk_size=256 * 1024)) == data


MiB = 1024 * 1024


def open_sessions(box) -> int:
    return httpx.get(box.base_url + "/_sim/box/stats").json()["open_upload_sessions"]


def test_new_version_above_the_direct_upload_ceiling_goes_in_parts(store: BoxStore, box) -> None:
    """Box refuses direct uploads above its ceiling (413), new versions included."""
    box.sim.direct_upload_max = 2 * MiB
    folder = store.ensure_folder_path("0", ["versions"])
    first = store.upload_stream(folder, "AB23CD_film.mov", chunks(b"a" * 3 * MiB), 3 * MiB)
    data = os.urandom(3 * MiB + 7)
    second = store.upload_new_version(first.id, "AB23CD_film.mov", chunks(data), len(data))
    assert second.id == first.id and second.sha1 == hashlib.sha1(data).hexdigest()
    assert box.sim.file_path(first.id).read_bytes() == data
    assert open_sessions(box) == 0


def test_commit_is_polled_while_box_assembles(store: BoxStore, box) -> None:
    httpx.post(box.base_url + "/_sim/box/upload-processing", json={"commit_processing_s": 1.2, "retry_after_s": 0.3})
    data = os.urandom(2 * MiB)
    stored = store.upload_stream(store.ensure_folder_path("0", ["slow"]), "slow.mov", chunks(data), len(data))
    assert stored.sha1 == hashlib.sha1(data).hexdigest()
    commits = [r["status"] for r in httpx.get(box.base_url + "/_sim/requests").json()["requests"]
               if r["path"].endswith("/commit")]
    assert commits[-1] == 201 and commits.count(202) >= 2


def test_commit_still_202_past_the_bound_is_retryable_and_aborts_the_session(store: BoxStore, box) -> None:
    httpx.post(box.base_url + "/_sim/box/upload-processing", json={"commit_processing_s": 60, "retry_after_s": 0.2})
    store.commit_wait_s = 1.0
    folder = store.ensure_folder_path("0", ["stuck"])
    with pytest.raises(TransientError, match="still assembling 'stuck.mov'.*aborted"):
        store.upload_stream(folder, "stuck.mov", chunks(os.urandom(2 * MiB)), 2 * MiB)
    assert open_sessions(box) == 0
    assert [f for f in box.sim.files() if f["name"] == "stuck.mov"] == []


@pytest.mark.parametrize("sent", [MiB + 10, 3 * MiB, 2 * MiB + 1], ids=["short", "long", "one byte long"])
@pytest.mark.parametrize("declared", [200_000, 2 * MiB], ids=["direct", "in parts"])
def test_a_source_that_disagrees_with_its_declared_size_leaves_nothing(store: BoxStore, box, declared: int,
                                                                        sent: int) -> None:
    folder = store.ensure_folder_path("0", ["sizes"])
    if sent == declared:
        pytest.skip("same size")
    with pytest.raises((IntegrityError, TransientError)):
        store.upload_stream(folder, "x.bin", chunks(os.urandom(sent)), declared)
    assert [f for f in box.sim.files() if f["name"] == "x.bin"] == []
    assert open_sessions(box) == 0


def test_hashing_reader_holds_back_the_end_until_the_checksum_matches() -> None:
    good = HashingReader(iter([b"abc", b"def"]), expected_size=6, expected_sha1=hashlib.sha1(b"abcdef").hexdigest())
    assert good.read() == b"abcdef"
    bad = HashingReader(iter([b"abc", b"deX"]), expected_size=6, expected_sha1=hashlib.sha1(b"abcdef").hexdigest())
    assert bad.read(3) == b"abc"
    with pytest.raises(IntegrityError, match="SHA-1"):
        bad.read(3)  # the last bytes never leave: a consumer cannot finish a wrong body
    with pytest.raises(IntegrityError, match="more than the 2 bytes"):
        HashingReader(iter([b"ab", b"c"]), expected_size=2).read(2)


def test_rename_folder_and_move_file(store: BoxStore, box) -> None:
    folder = store.ensure_folder_path("0", ["C1-Old name"])
    other = store.ensure_folder_path("0", ["C1-Taken"])
    store.rename_folder(folder, "C1-New name")
    assert store.get_folder_name(folder) == "C1-New name"
    assert store.ensure_folder_path("0", ["C1-New name"]) == folder
    with pytest.raises(Exception, match=f"cannot be renamed to 'C1-Taken': folder {other}"):
        store.rename_folder(folder, "C1-Taken")
    f = store.upload_stream(folder, "a.jpg", chunks(b"abc"), 3)
    moved = store.move_file(f.id, other, "b.jpg")
    assert (moved.parent_id, moved.name, moved.sha1) == (other, "b.jpg", f.sha1)
