"""The worker's root: how a host path is recreated in it (folders, symbolic links kept as links) and which host
folders it names. Building the root itself needs namespaces: tests/adversarial/test_persistence.py grades for real."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.sandbox import rootfs


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """tmp/usr/lib/x (a folder), tmp/lib -> usr/lib (relative, as on merged-/usr systems), tmp/abs -> tmp/usr
    (absolute), tmp/up -> usr/lib/../lib (through ..), tmp/loop -> loop."""
    (tmp_path / "usr" / "lib" / "x").mkdir(parents=True)
    (tmp_path / "lib").symlink_to("usr/lib")
    (tmp_path / "abs").symlink_to(tmp_path / "usr")
    (tmp_path / "up").symlink_to("usr/lib/../lib")
    (tmp_path / "loop").symlink_to("loop")
    return tmp_path


@pytest.mark.parametrize(
    "path, real, links",
    [
        pytest.param("usr/lib/x", "usr/lib/x", {}, id="no-link"),
        pytest.param("lib/x", "usr/lib/x", {"lib": "usr/lib"}, id="relative-link"),
        pytest.param("abs/lib/x", "usr/lib/x", {"abs": "{tmp}/usr"}, id="absolute-link"),
        pytest.param("up/x", "usr/lib/x", {"up": "usr/lib/../lib"}, id="link-through-dotdot"),
        pytest.param("usr/./lib/../lib/x", "usr/lib/x", {}, id="dots-in-the-path"),
    ],
)
def test_a_path_is_walked_to_its_real_folder_recording_links_and_folders(tree: Path, path: str, real: str, links: dict[str, str]):
    found_links: dict[str, str] = {}
    folders: set[str] = set()
    assert rootfs._walk(f"{tree}/{path}", found_links, folders) == f"{tree}/{real}"
    assert found_links == {f"{tree}/{k}": v.format(tmp=tree) for k, v in links.items()}
    assert f"{tree}/usr/lib" in folders and f"{tree}/usr/lib/x" not in folders  # the last one is the mount point


def test_a_link_loop_is_refused(tree: Path):
    with pytest.raises(OSError, match="too many symbolic links"):
        rootfs._walk(f"{tree}/loop/x", {}, set())


def test_the_loader_configuration_is_read_with_its_includes(tmp_path: Path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "cuda.conf").write_text("/usr/local/cuda/lib64\n# a comment\n")
    (tmp_path / "conf.d" / "nvidia.conf").write_text("/usr/local/nvidia/lib64  # trailing comment\n")
    (tmp_path / "ld.so.conf").write_text("include conf.d/*.conf\n/opt/lib\nnot/absolute\n")
    assert rootfs._loader_config(str(tmp_path / "ld.so.conf")) == ["/usr/local/cuda/lib64", "/usr/local/nvidia/lib64", "/opt/lib"]


def test_the_interpreters_folders_are_its_path_and_environment_not_a_base_prefix(monkeypatch, tmp_path: Path):
    monkeypatch.setattr("sys.path", ["", "relative", str(tmp_path), str(tmp_path / "missing")])
    monkeypatch.setattr("sys.prefix", str(tmp_path / "venv"))
    monkeypatch.setattr("sys.base_prefix", "/usr")
    assert rootfs._python_folders() == [str(tmp_path), str(tmp_path / "venv")]
    assert os.sep + "usr" not in rootfs._python_folders()
