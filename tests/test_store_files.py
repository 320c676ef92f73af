"""Atomic writes and the content-addressed file store."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from PIL import Image

from gptimg_desktop.store import files
from gptimg_desktop.store.files import ImageFiles, atomic_write, sniff_ext


def _image_bytes(fmt: str, color=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buf, fmt)
    return buf.getvalue()


def test_atomic_write_creates_and_replaces(tmp_path):
    target = tmp_path / "a.bin"
    atomic_write(target, b"first")
    atomic_write(target, b"second")

    assert target.read_bytes() == b"second"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_failed_rename_leaves_old_content_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "a.bin"
    atomic_write(target, b"old content")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, b"new content that never lands")

    assert target.read_bytes() == b"old content"
    assert os.listdir(tmp_path) == ["a.bin"]


def test_failure_while_writing_never_creates_the_target(tmp_path, monkeypatch):
    target = tmp_path / "new.bin"

    def broken_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="I/O error"):
        atomic_write(target, b"x" * 100_000)

    assert os.listdir(tmp_path) == []


def test_put_is_content_addressed_and_idempotent(tmp_path, monkeypatch):
    store = ImageFiles(tmp_path)
    png = _image_bytes("PNG")
    writes = []
    real_write = files.atomic_write
    monkeypatch.setattr(files, "atomic_write", lambda path, data: (writes.append(path), real_write(path, data)))

    rel = store.put(png, "png")
    again = store.put(png, ".PNG")

    digest = hashlib.sha256(png).hexdigest()
    assert rel == again == f"images/{digest[:2]}/{digest}.png"
    assert len(writes) == 1
    assert store.path(rel).read_bytes() == png
    assert store.exists(rel)
    assert store.put(_image_bytes("PNG", (0, 0, 255)), "png") != rel


def test_inputs_thumbs_and_responses_have_their_own_folders(tmp_path):
    store = ImageFiles(tmp_path)
    data = _image_bytes("JPEG")

    assert store.put_input(data, "jpeg").startswith("inputs/")
    assert store.put_thumb(data, "jpeg").startswith("thumbs/")
    rel = store.put_response(b'{"data": []}')
    assert rel.startswith("responses/") and rel.endswith(".json")
    assert store.path(rel).read_bytes() == b'{"data": []}'


def test_paths_outside_the_data_folder_are_refused(tmp_path):
    store = ImageFiles(tmp_path)
    for bad in ("../etc/passwd", "/etc/passwd", "images/../../x", "", "images\\x.png"):
        with pytest.raises(ValueError):
            store.path(bad)
    with pytest.raises(ValueError):
        store.put(b"x", "png/../../evil")
    assert not store.exists("images/00/missing.png")


def test_sniff_ext_reads_magic_numbers_first():
    assert sniff_ext(_image_bytes("PNG"), "photo.jpg") == "png"
    assert sniff_ext(_image_bytes("JPEG")) == "jpeg"
    assert sniff_ext(_image_bytes("WEBP")) == "webp"
    assert sniff_ext(b"????", "scan.TIFF") == "tiff"
    assert sniff_ext(b"????") == "bin"
