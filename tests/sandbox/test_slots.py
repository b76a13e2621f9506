"""Worker slots: the lowest free one, and, with leases, never a uid another grader on this machine holds."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from autograder.sandbox.slots import SlotLeaseError, Slots

root_only = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="leases are root's: a grader without root has no per-slot uids")


def test_without_leases_a_slot_is_the_lowest_number_free_here():
    slots = Slots(uid_base=64000, leases=None)
    assert [slots.take() for _ in range(3)] == [0, 1, 2]
    slots.release(1)
    assert slots.take() == 1 and slots.take() == 3


@root_only
def test_two_graders_never_hold_the_same_uid_and_a_released_one_is_taken_again(tmp_path):
    os.chmod(tmp_path, 0o700)
    one, two = Slots(uid_base=64000, leases=tmp_path), Slots(uid_base=64000, leases=tmp_path)
    assert (one.take(), two.take(), one.take(), two.take()) == (0, 1, 2, 3)
    one.release(0)
    assert two.take() == 0  # the lease is gone with its lock file's descriptor
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"uid-6400{i}.lock" for i in range(4)]


@root_only
def test_a_lease_held_by_another_process_is_skipped_until_that_process_ends(tmp_path):
    os.chmod(tmp_path, 0o700)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from autograder.sandbox.slots import Slots\nfrom pathlib import Path\ns = Slots(uid_base=500, leases=Path({str(tmp_path)!r}))\nprint(s.take(), flush=True)\ninput()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "0"
        slots = Slots(uid_base=500, leases=tmp_path)
        assert slots.take() == 1
    finally:
        holder.communicate("")  # it exits without releasing: the kernel drops its lease
    assert Slots(uid_base=500, leases=tmp_path).take() == 0


@root_only
@pytest.mark.parametrize("mode", [0o777, 0o755], ids=["others-may-write", "only-root-writes"])
def test_the_lock_folder_must_be_roots_alone(tmp_path, mode):
    os.chmod(tmp_path, mode)
    if mode & 0o022:
        with pytest.raises(RuntimeError, match=r"lock folder must be a folder owned by root that only root can write \(mode drwxrwxrwx"):
            Slots(uid_base=64000, leases=tmp_path)
    else:
        assert Slots(uid_base=64000, leases=tmp_path).take() == 0


@root_only
def test_a_lock_folder_that_cannot_be_made_is_said_in_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SlotLeaseError, match=r"/file/slots: the worker slots' lock folder cannot be made \(Not a directory\); strict mode as root leases each worker's uid there"):
        Slots(uid_base=64000, leases=tmp_path / "file" / "slots")
