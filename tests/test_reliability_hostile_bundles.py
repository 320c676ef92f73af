"""Hostile bundles: a zip directory that lies about sizes, files no row uses, ledger values no job can have,
and names made to drive a terminal."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_store_bundles import Clock, make_version, manifest_of

from gptimg_desktop.store import HistoryStore
from gptimg_desktop.store.bundle_format import BundleError
from gptimg_desktop.store.bundles import export_project, import_bundle


@pytest.fixture
def source(tmp_path):
    store = HistoryStore(tmp_path / "machine-a", clock=Clock())
    make_version(store, "a poster")
    make_version(store, "another poster", color=(1, 2, 3))
    yield store
    store.close()


@pytest.fixture
def target(tmp_path):
    store = HistoryStore(tmp_path / "machine-b", clock=Clock())
    yield store
    store.close()


def _rewrite(bundle: Path, out: Path, manifest: dict, extra: dict[str, bytes] | None = None,
             deflate: set[str] | None = None, padding: int = 0) -> Path:
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(out, "w") as dst:
        for name, data in (extra or {}).items():  # first, so the lies below point inside the file
            kind = zipfile.ZIP_DEFLATED if name in (deflate or set()) else zipfile.ZIP_STORED
            dst.writestr(name, data, compress_type=kind)
        for info in src.infolist():
            data = json.dumps(manifest).encode() if info.filename == "manifest.json" else src.read(info)
            dst.writestr(info, data)
        if padding:  # a member nothing lists, making room for the claimed compressed sizes
            filler = os.urandom(padding)
            dst.writestr(f"files/{_content_rel('thumbs', filler, 'jpeg')}", filler)
    return out


def _content_rel(folder: str, data: bytes, ext: str) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{folder}/{digest[:2]}/{digest}.{ext}"


def _lie_about_compressed_sizes(path: Path, names: set[str]) -> None:
    """Patch the central directory so each named member claims a compressed size near its real size: the
    ratio check then sees nothing unusual, as in the reported 4.3 MB bundle that wrote 950 MB."""
    data = bytearray(path.read_bytes())
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        comp, size = struct.unpack_from("<II", data, pos + 20)
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        name = data[pos + 46 : pos + 46 + name_len].decode()
        if name in names:
            struct.pack_into("<I", data, pos + 20, size // 90)  # a ratio of 90: under the 100 refused
        pos = data.find(b"PK\x01\x02", pos + 46 + name_len)
    path.write_bytes(bytes(data))


def _data_bytes(store) -> int:
    return sum(p.stat().st_size for p in store.root.rglob("*") if p.is_file() and "history.db" not in p.name)


# ---------------------------------------------------------------------------------------------- item 2
def test_a_zip_that_lies_about_compressed_sizes_cannot_write_more_than_its_budget(source, target, tmp_path):
    bundle = tmp_path / "posters.gptimg"
    export_project(source, "Posters", bundle)
    manifest = manifest_of(bundle)
    bombs = {}
    for i, version in enumerate(manifest["versions"]):
        payload = bytes(40 * 1024 * 1024 - 1) + bytes([i])  # 40 MB that deflates to ~40 KB
        rel = _content_rel("images", payload, "png")
        manifest["files"][rel] = len(payload)
        version["file"] = rel
        bombs[f"files/{rel}"] = payload
    crafted = _rewrite(bundle, tmp_path / "bomb.gptimg", manifest, bombs, deflate=set(bombs), padding=1024 * 1024)
    _lie_about_compressed_sizes(crafted, set(bombs))
    assert crafted.stat().st_size < 2 * 1024 * 1024
    before = _data_bytes(target)

    with pytest.raises(BundleError, match="zip bomb"):
        import_bundle(target, crafted)
    assert _data_bytes(target) - before < 20 * 1024 * 1024  # never the 80 MB the directory allows
    assert target.list_versions() == []


def test_files_that_no_row_uses_are_never_written(source, target, tmp_path):
    bundle = tmp_path / "posters.gptimg"
    export_project(source, "Posters", bundle)
    manifest = manifest_of(bundle)
    script = b"#!/bin/sh\nrm -rf ~\n"
    rel = _content_rel("images", script, "sh")
    manifest["files"][rel] = len(script)
    crafted = _rewrite(bundle, tmp_path / "extra.gptimg", manifest, {f"files/{rel}": script})

    summary = import_bundle(target, crafted)
    assert summary.versions == 2
    assert not (target.root / rel).exists()
    assert not list(target.root.rglob("*.sh"))


# ---------------------------------------------------------------------------------------------- item 5
@pytest.mark.parametrize(("field", "value"), [("cost_usd", 1e12), ("credits", 2**53), ("cost_usd", 5000.0)])
def test_ledger_values_no_job_can_have_refuse_the_bundle(source, target, tmp_path, field, value):
    bundle = tmp_path / "posters.gptimg"
    export_project(source, "Posters", bundle)
    manifest = manifest_of(bundle)
    manifest["ledger"][0][field] = value
    crafted = _rewrite(bundle, tmp_path / "poison.gptimg", manifest)
    with pytest.raises(BundleError, match="no real job can cost"):
        import_bundle(target, crafted)
    assert target.usage_totals().cost_usd == 0 and target.usage_totals().credits == 0


def test_deleting_an_imported_project_removes_its_cost_records(source, target, tmp_path):
    bundle = tmp_path / "posters.gptimg"
    export_project(source, "Posters", bundle)
    import_bundle(target, bundle)
    target.set_global_budget(credits=100)
    assert target.budget_status(None, 60, 0.2).blocks
    target.delete_project("Posters")
    assert target.usage_totals().credits == 0 and not target.budget_status(None, 60, 0.2).blocks


# ---------------------------------------------------------------------------------------------- item 9: terminal
def test_names_and_prompts_made_to_drive_a_terminal_are_printed_clean(source, tmp_path):
    evil = "\x1b[2J\x1b]0;pwned\x07Posters\u202etxt.exe"
    source.rename_project("Posters", evil)
    for v in source.list_versions():
        source._conn.execute("UPDATE versions SET prompt = ? WHERE id = ?", (f"poster \x1b[31mred\u202e {v.id}", v.id))
    bundle = tmp_path / "evil.gptimg"
    export_project(source, " ".join(evil.split()), bundle)
    home = tmp_path / "cli-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GPTIMG_"))}
    env.update(GPTIMG_HOME=str(home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    outputs = []
    for args in (["project", "import", str(bundle)], ["project", "list"], ["history"], ["jobs"]):
        run = subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", *args], capture_output=True, text=True,
                             env=env, timeout=120, check=False)
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout + run.stderr)
    text = "".join(outputs)
    assert "Posters" in text and "red" in text
    for bad in ("\x1b", "\x07", "\u202e"):
        assert bad not in text
