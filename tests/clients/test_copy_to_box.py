"""Every branch of the one DAM→Box copy, with in-memory fakes of the DAM, Box and the ledger."""

from __future__ import annotations

import hashlib
import itertools
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from clients.box import BoxFile
from clients.errors import AlreadyExists, IntegrityError, InvalidData
from clients.transfer import copy_dam_asset_to_box
from domain.campaigns import Campaign, DamAsset
from domain.fields import load_dam_fields
from domain.tracking_records import BoxUpload
from domain.transfers import A1_TO_A2, AssetJob, AssetOutcome

pytestmark = pytest.mark.fast

FIELDS = load_dam_fields()
CAMPAIGN = Campaign(folder_id="f1", number="C000000001", name="Spring", status="A1")


@dataclass
class Content:
    size: int
    body: bytes

    def iter_bytes(self, chunk: int):
        for i in range(0, len(self.body), chunk):
            yield self.body[i:i + chunk]


@dataclass
class FakeDam:
    assets: dict[str, bytes]
    opened: list[str] = field(default_factory=list)

    @contextmanager
    def open_content(self, asset_id: str):
        self.opened.append(asset_id)
        yield Content(len(self.assets[asset_id]), self.assets[asset_id])


@dataclass
class FakeBox:
    files: dict[str, BoxFile] = field(default_factory=dict)
    uploads: list[str] = field(default_factory=list)
    ids: itertools.count = field(default_factory=lambda: itertools.count(100))

    def ensure_folder_path(self, parent: str, names: list[str]) -> str:
        return "/".join([parent, *names])

    def get_file(self, file_id: str) -> BoxFile:
        from clients.errors import NotFound

        if file_id not in self.files:
            raise NotFound(file_id)
        return self.files[file_id]

    def move_file(self, file_id: str, folder_id: str, name: str) -> BoxFile:
        self.files[file_id] = self.files[file_id].model_copy(update={"parent_id": folder_id, "name": name})
        return self.files[file_id]

    def _store(self, file_id: str, folder_id: str, name: str, chunks, size: int) -> BoxFile:
        body = b"".join(chunks)
        self.uploads.append(name)
        self.files[file_id] = BoxFile(id=file_id, name=name, size=len(body), sha1=hashlib.sha1(body).hexdigest(),
                                      parent_id=folder_id)
        return self.files[file_id]

    def upload_stream(self, folder_id: str, name: str, chunks, size: int) -> BoxFile:
        same = [f for f in self.files.values() if (f.parent_id, f.name) == (folder_id, name)]
        if same:
            raise AlreadyExists(name, existing_id=same[0].id)
        return self._store(str(next(self.ids)), folder_id, name, chunks, size)

    def upload_new_version(self, file_id: str, name: str, chunks, size: int) -> BoxFile:
        return self._store(file_id, self.files[file_id].parent_id, name, chunks, size)


@dataclass
class FakeLedger:
    uploads: dict[str, BoxUpload] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)

    def existing_tracking_id(self, dam_asset_id, master_tracking_id=None):
        return None

    def box_upload(self, workflow, dam_asset_id):
        return self.uploads.get(dam_asset_id)

    def register_for_upload(self, record, workflow):
        return "K7M2QX", self.uploads.get(record.dam_asset_id)

    def record_box_upload(self, upload, *, campaign_number, flow_run_id, event="uploaded_to_box", details=None):
        self.uploads[upload.dam_asset_id] = upload
        self.events.append(event)


def job(name: str = "hero.jpg", sub_path: tuple[str, ...] = (), size: int = 5) -> AssetJob:
    asset = DamAsset(asset_id="1", name=name, size=size, sub_path=list(sub_path))
    return AssetJob(workflow=A1_TO_A2, campaign=CAMPAIGN, asset=asset, box_folder_id="9",
                    box_folder_path="C000000001-Spring")


def copy(dam, box, ledger, j=None):
    return copy_dam_asset_to_box(dam, box, ledger, j or job(), FIELDS, flow_run_id="run-1")


def test_never_sent_is_uploaded_and_recorded_then_a_rerun_sends_nothing() -> None:
    dam, box, ledger = FakeDam({"1": b"hello"}), FakeBox(), FakeLedger()
    first = copy(dam, box, ledger)
    assert (first.outcome, first.box_path, box.uploads) == (AssetOutcome.UPLOADED, "C000000001-Spring/K7M2QX_hero.jpg",
                                                            ["K7M2QX_hero.jpg"])
    again = copy(dam, box, ledger)
    assert (again.outcome, again.box_file_id, len(box.uploads), ledger.events) == (
        AssetOutcome.ALREADY_IN_BOX, first.box_file_id, 1, ["uploaded_to_box"])
    assert dam.opened == ["1"]  # a re-run does not even download


def test_a_copy_left_by_a_stopped_run_is_recognised_by_sha1() -> None:
    dam, box, ledger = FakeDam({"1": b"hello"}), FakeBox(), FakeLedger()
    box._store("55", "9", "K7M2QX_hero.jpg", [b"hello"], 5)  # in Box, never recorded
    result = copy(dam, box, ledger)
    assert (result.outcome, result.box_file_id, ledger.events) == (AssetOutcome.ALREADY_IN_BOX, "55", ["found_in_box"])
    assert len(box.uploads) == 1


def test_a_changed_master_becomes_a_new_version_of_the_same_file() -> None:
    dam, box, ledger = FakeDam({"1": b"hello"}), FakeBox(), FakeLedger()
    first = copy(dam, box, ledger)
    dam.assets["1"] = b"HELLO"  # the master changed (same size)
    # ... and Box no longer holds what was recorded: the DAM bytes are compared, and differ.
    box.files[first.box_file_id] = box.files[first.box_file_id].model_copy(update={"sha1": "0" * 40})
    result = copy(dam, box, ledger)
    assert (result.outcome, result.box_file_id, ledger.events[-1]) == (AssetOutcome.UPLOADED, first.box_file_id,
                                                                      "updated_in_box")
    assert box.files[first.box_file_id].sha1 == hashlib.sha1(b"HELLO").hexdigest()


def test_an_asset_moved_in_the_dam_moves_its_one_box_file() -> None:
    dam, box, ledger = FakeDam({"1": b"hello"}), FakeBox(), FakeLedger()
    first = copy(dam, box, ledger)
    moved = copy(dam, box, ledger, job("hero-v2.jpg", ("Social",)))
    assert (moved.outcome, moved.box_file_id, ledger.events[-1]) == (AssetOutcome.ALREADY_IN_BOX, first.box_file_id,
                                                                    "moved_in_box")
    assert (box.files[first.box_file_id].parent_id, box.files[first.box_file_id].name) == ("9/Social",
                                                                                          "K7M2QX_hero-v2.jpg")
    assert len(box.uploads) == 1


def test_a_recorded_file_deleted_in_box_is_sent_again() -> None:
    dam, box, ledger = FakeDam({"1": b"hello"}), FakeBox(), FakeLedger()
    first = copy(dam, box, ledger)
    del box.files[first.box_file_id]
    again = copy(dam, box, ledger)
    assert (again.outcome, ledger.events[-1]) == (AssetOutcome.UPLOADED, "uploaded_to_box")
    assert again.box_file_id != first.box_file_id


@pytest.mark.parametrize(("body", "declared", "error"), [
    (b"hello", 0, InvalidData),  # an empty master is never sent
    (b"hell", 5, IntegrityError),  # the DAM answered with fewer bytes than it declares
])
def test_what_the_dam_declares_is_checked_before_box_gets_anything(body, declared, error) -> None:
    dam, box, ledger = FakeDam({"1": body}), FakeBox(), FakeLedger()
    with pytest.raises(error):
        copy(dam, box, ledger, job(size=declared))
    assert box.files == {} and ledger.events == []
