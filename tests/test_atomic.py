"""atomic.py: an output is the old one or the new one, never part of one, never neither."""

import os
import signal

import pytest

from petclf import atomic
from petclf.errors import UsageError


def test_a_file_appears_only_when_its_block_succeeds(tmp_path):
    with atomic.atomic_file(tmp_path / "out.txt") as tmp:
        tmp.write_text("new")
        assert not (tmp_path / "out.txt").exists()
    assert (tmp_path / "out.txt").read_text() == "new" and os.listdir(tmp_path) == ["out.txt"]


def test_a_failed_block_leaves_the_old_file_and_no_temporary(tmp_path):
    (tmp_path / "out.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_file(tmp_path / "out.txt") as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk gone")
    assert (tmp_path / "out.txt").read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("overwrite, refused", [(False, True), (True, False)])
def test_a_folder_that_is_not_empty_is_replaced_only_with_overwrite(tmp_path, overwrite, refused):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "old.txt").write_text("old")
    if refused:
        with pytest.raises(UsageError, match="folder exists and is not empty"), atomic.atomic_dir(tmp_path / "run"):
            pass
        assert os.listdir(tmp_path / "run") == ["old.txt"]
        return
    with atomic.atomic_dir(tmp_path / "run", overwrite=overwrite) as tmp:
        (tmp / "new.txt").write_text("new")
    assert os.listdir(tmp_path / "run") == ["new.txt"] and os.listdir(tmp_path) == ["run"]


def test_a_failed_folder_leaves_the_old_one_as_it_was(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "old.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_dir(tmp_path / "run", overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
        raise RuntimeError("interrupted")
    assert os.listdir(tmp_path / "run") == ["old.txt"] and os.listdir(tmp_path) == ["run"]


@pytest.fixture
def ctrl_c_heard():
    """Python's Ctrl-C handler, whatever this process inherited: a shell starts background jobs
    (CI's, maybe) with SIGINT ignored, and a held signal is then rightly raised into nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_between_the_two_renames_of_a_swap_waits_until_the_new_folder_is_in(tmp_path, monkeypatch,
                                                                                   ctrl_c_heard):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "old.txt").write_text("old")
    rename = os.rename

    def interrupted_rename(src, dst):  # Ctrl-C arrives right after the old folder is moved aside
        rename(src, dst)
        if str(dst).endswith(".old"):
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(atomic.os, "rename", interrupted_rename)
    with pytest.raises(KeyboardInterrupt), atomic.atomic_dir(tmp_path / "run", overwrite=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert os.listdir(tmp_path / "run") == ["new.txt"] and os.listdir(tmp_path) == ["run"]


def test_what_is_renamed_into_place_is_on_disk_first(tmp_path, monkeypatch):
    synced = []
    fsync = os.fsync
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or fsync(fd))
    with atomic.atomic_dir(tmp_path / "run") as tmp:
        (tmp / "model.bin").write_bytes(b"weights")
    assert any(path.endswith("model.bin") for path in synced) and str(tmp_path) in synced
