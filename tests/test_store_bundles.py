"""Project and branch bundles: a real round trip between two data folders, repeated imports, and hostile files."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import struct
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gptimg_desktop.core.pricing import Usage
from gptimg_desktop.store import HistoryStore, RecordNotFound
from gptimg_desktop.store.bundle_format import BundleError, BundleLimits
from gptimg_desktop.store.bundles import export_branch, export_project, import_bundle


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(milliseconds=1)
        return self.now


def image(color, size=(24, 16), fmt="PNG", mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, fmt)
    return buf.getvalue()


def make_version(store, prompt, project="Posters", parent=None, color=(200, 30, 30), inputs=(), mask=None):
    job = store.create_job(
        {"prompt": prompt, "size": "24x16"}, "edit" if parent or inputs else "generate", "gpt-image-2", prompt,
        project, parent, inputs=inputs, mask=mask, estimate={"credits": 60, "cost_usd": 0.2},
    )
    store.mark_running(job.id)
    store.add_request_id(job.id, f"req_{job.id[:8]}")
    version = store.add_version(
        job.id, image(color), "png", 24, 16, "high", 0, Usage(120, 4000, 4120, 120, 0, 4000), 0.16, 60,
        thumb_bytes=image(color, (12, 8), "JPEG"),
    )
    store.mark_succeeded(job.id)
    return version


@pytest.fixture
def source(tmp_path):
    """A history with project Posters: v1 -> v2 -> v3 and v1 -> v4, an unrelated root v5, a failed job,
    and a Default project that must not travel with it."""
    store = HistoryStore(tmp_path / "machine-a", clock=Clock())
    v1 = make_version(store, "Café — 東京 poster")
    store.set_star(v1.id, True)
    photo, reference = image((10, 120, 40)), image((0, 0, 250))
    mask = image((0, 0, 0, 0), mode="RGBA")
    v2 = make_version(store, "make the sky pink", parent=v1.id, color=(1, 2, 3),
                      inputs=[(photo, "photo.png", "image"), (reference, "ref.png", "style")], mask=mask)
    v3 = make_version(store, "add birds", parent=v2.id, color=(4, 5, 6))
    v4 = make_version(store, "night version", parent=v1.id, color=(7, 8, 9))
    v5 = make_version(store, "a second poster", color=(9, 9, 9))
    failed = store.create_job({}, "generate", "gpt-image-2", "a failed one", "Posters")
    store.mark_failed(failed.id, "Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwx1234.")
    make_version(store, "not in the bundle", project="Default", color=(50, 50, 50))
    store.set_project_budget("Posters", credits=1000, usd=20.0)
    store.set_setting("last_export_folder", "/home/designer/private")
    store.set_global_budget(credits=5000)
    ids = {"v1": v1.id, "v2": v2.id, "v3": v3.id, "v4": v4.id, "v5": v5.id, "failed": failed.id}
    yield store, ids
    store.close()


@pytest.fixture
def target(tmp_path):
    store = HistoryStore(tmp_path / "machine-b", clock=Clock())
    yield store
    store.close()


def data_files(store) -> dict[str, bytes]:
    """Every file of the data folder except the database itself, by relative path."""
    return {
        str(p.relative_to(store.root)): p.read_bytes()
        for p in sorted(store.root.rglob("*"))
        if p.is_file() and not p.name.startswith("history.db")
    }


def state(store) -> tuple:
    """Everything an import could change: rows of every table and the files."""
    with store.snapshot() as conn:
        rows = tuple(
            tuple(tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"))
            for table in ("projects", "jobs", "versions", "ledger", "settings")
        )
    return rows, data_files(store)


def members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def manifest_of(bundle: Path) -> dict:
    return json.loads(members(bundle)["manifest.json"])


# ---------------------------------------------------------------------------------------------- round trips
def by_prompt(store, project=None) -> dict:
    return {v.prompt: v for v in store.list_versions(project=project)}


def test_a_project_moves_to_another_machine_with_identical_versions_and_files(source, target, tmp_path):
    store, ids = source
    bundle = tmp_path / "posters.gptimg"
    exported = export_project(store, "Posters", bundle)
    assert (exported.versions, exported.jobs, exported.project, exported.scope) == (5, 6, "Posters", "project")
    assert "Exported project Posters: 5 versions, 6 jobs" in exported.describe_export()

    imported = import_bundle(target, bundle)
    assert (imported.versions, imported.jobs) == (5, 6)
    assert imported.project == "Posters" and imported.project_created and imported.ledger_rows == 5
    assert imported.describe_import() == "Imported 5 versions and 6 jobs into project Posters."

    before, after = by_prompt(store, "Posters"), by_prompt(target, "Posters")
    assert after.keys() == before.keys()
    # Fresh ids: nothing in a bundle can name a record of the history it goes into.
    assert not {v.id for v in after.values()} & {v.id for v in before.values()}
    old_prompt = {v.id: v.prompt for v in before.values()}
    new_prompt = {v.id: v.prompt for v in after.values()}
    for prompt, old in before.items():
        new = after[prompt]
        for field in ("prompt", "starred", "created_at", "model", "size", "quality", "kind",
                      "credits", "cost_usd", "input_tokens", "output_tokens", "index_in_job"):
            assert getattr(new, field) == getattr(old, field), field
        assert new_prompt.get(new.parent_id) == old_prompt.get(old.parent_id)  # the same tree
        assert new.path.read_bytes() == old.path.read_bytes()
        assert new.thumb_path.read_bytes() == old.thumb_path.read_bytes()
        assert new.path.is_relative_to(target.root)
    assert after["Café — 東京 poster"].starred
    # The edit's inputs and mask came along, so it can be restored and re-run on the new machine.
    old_v2, new_v2 = before["make the sky pink"], after["make the sky pink"]
    old_inputs, new_inputs = store.job_inputs(old_v2.job_id), target.job_inputs(new_v2.job_id)
    assert [(p.read_bytes(), n, r) for p, n, r in new_inputs.images] == [
        (p.read_bytes(), n, r) for p, n, r in old_inputs.images
    ]
    assert new_inputs.mask.read_bytes() == old_inputs.mask.read_bytes()
    failed = target.list_jobs(status="failed")
    assert len(failed) == 1 and failed[0].prompt == "a failed one" and failed[0].response_file is None
    assert [(v.prompt, d) for v, d in target.version_tree("Posters")] == [
        (v.prompt, d) for v, d in store.version_tree("Posters")
    ]
    assert target.usage_totals(project="Posters") == store.usage_totals(project="Posters")
    assert target.budget_for("Posters") == (1000, 20.0)
    # Settings never travel: not the folder, not the overall budget.
    assert target.get_setting("last_export_folder") is None and target.budget_for(None) == (None, None)
    assert target.list_versions(project="Default") == []


def test_importing_twice_makes_a_second_copy_and_never_touches_the_first(source, target, tmp_path):
    store, _ids = source
    bundle = tmp_path / "posters.gptimg"
    export_project(store, "Posters", bundle)
    import_bundle(target, bundle)
    first = by_prompt(target, "Posters")
    target.set_star(first["Café — 東京 poster"].id, False)  # a change made on the new machine must survive
    before = state(target)

    again = import_bundle(target, bundle)
    assert again.project == "Posters (imported)" and again.project_created and again.versions == 5
    assert again.files == 0  # the same files are stored once
    assert target.get_version(first["Café — 東京 poster"].id).starred is False
    assert by_prompt(target, "Posters").keys() == first.keys()
    assert {v.id for v in target.list_versions(project="Posters")} == {v.id for v in first.values()}
    after = state(target)[0]
    for table in range(4):  # projects, jobs, versions, ledger: every row there before is there, unchanged
        assert after[table][: len(before[0][table])] == before[0][table]
    assert [p.name for p in target.list_projects()] == ["Default", "Posters", "Posters (imported)"]


def test_a_different_project_with_the_same_name_is_left_alone(source, target, tmp_path):
    store, _ids = source
    mine = make_version(target, "my own poster", color=(90, 90, 90))
    bundle = tmp_path / "posters.gptimg"
    export_project(store, "Posters", bundle)

    first = import_bundle(target, bundle)
    assert first.project == "Posters (imported)" and first.project_created
    assert [v.id for v in target.list_versions(project="Posters")] == [mine.id]
    assert len(target.list_versions(project="Posters (imported)")) == 5
    assert import_bundle(target, bundle).project == "Posters (imported 2)"  # never merged into the first copy


def test_the_default_project_imports_into_an_empty_default(source, target, tmp_path):
    store, _ids = source
    export_project(store, "Default", tmp_path / "default.gptimg")
    summary = import_bundle(target, tmp_path / "default.gptimg")
    assert summary.project == "Default" and summary.versions == 1 and not summary.project_created


def test_a_branch_holds_exactly_the_version_and_its_descendants(source, target, tmp_path):
    store, ids = source
    bundle = tmp_path / "branch.gptimg"
    summary = export_branch(store, ids["v2"], bundle)
    assert summary.scope == "branch" and summary.versions == 2 and summary.jobs == 2

    manifest = manifest_of(bundle)
    assert {v["id"] for v in manifest["versions"]} == {ids["v2"], ids["v3"]}
    assert manifest["root_version_id"] == ids["v2"] and manifest["scope"] == "branch"
    assert all(row["version_id"] in (ids["v2"], ids["v3"]) for row in manifest["ledger"])
    assert len(manifest["ledger"]) == 2

    imported = import_bundle(target, bundle)
    assert imported.versions == 2 and imported.project == "Posters"
    got = by_prompt(target)
    v2, v3 = got["make the sky pink"], got["add birds"]
    assert v2.parent_id is None  # its parent stayed on the other machine
    assert v3.parent_id == v2.id
    assert target.get_job(v2.job_id).parent_version_id is None
    assert target.usage_totals().credits == 120


def test_a_branch_brought_back_never_grafts_onto_the_tree_it_came_from(source, tmp_path):
    store, ids = source
    bundle = tmp_path / "branch.gptimg"
    export_branch(store, ids["v2"], bundle)
    tree = [(v.id, d) for v, d in store.version_tree("Posters")]

    back = import_bundle(store, bundle)
    assert back.project == "Posters (imported)" and back.versions == 2
    assert [(v.id, d) for v, d in store.version_tree("Posters")] == tree  # the original tree is untouched
    copies = store.list_versions(project="Posters (imported)")
    assert {v.id for v in copies}.isdisjoint(ids.values())
    assert sorted(v.parent_id is None for v in copies) == [False, True]  # a root of its own, never v1's child


def test_a_bundle_whose_ids_collide_with_this_history_never_merges_into_it(source, target, tmp_path):
    store, ids = source
    mine = make_version(target, "mine", project="Mine", color=(5, 50, 5))
    bundle = tmp_path / "posters.gptimg"
    export_project(store, "Posters", bundle)
    manifest = manifest_of(bundle)
    # A crafted bundle reusing ids of this history for its job, its version and as a parent.
    manifest["jobs"][0]["id"] = mine.job_id
    manifest["versions"][0]["job_id"] = mine.job_id
    for row in manifest["ledger"]:
        if row["job_id"] == manifest["versions"][0]["job_id"] or row["version_id"] == manifest["versions"][0]["id"]:
            row["job_id"] = mine.job_id
    old_first = manifest["versions"][0]["id"]
    manifest["versions"][0]["id"] = mine.id
    for v in manifest["versions"]:
        if v["parent_id"] == old_first:
            v["parent_id"] = mine.id
    for row in manifest["ledger"]:
        if row["version_id"] == old_first:
            row["version_id"] = mine.id
    for j in manifest["jobs"]:
        if j["parent_version_id"] == old_first:
            j["parent_version_id"] = mine.id
    crafted = tmp_path / "crafted.gptimg"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(crafted, "w") as out:
        for info in src.infolist():
            data = json.dumps(manifest).encode() if info.filename == "manifest.json" else src.read(info)
            out.writestr(info, data)
    before = target.get_version(mine.id)

    summary = import_bundle(target, crafted)
    assert summary.versions == 5
    assert target.get_version(mine.id) == before and target.children(mine.id) == []
    assert [v.id for v in target.list_versions(project="Mine")] == [mine.id]
    assert target.versions_for_job(mine.job_id) == [before]


def test_a_bundle_holds_no_settings_keys_or_raw_responses(source, tmp_path):
    store, ids = source
    store.set_response_file(ids["failed"], store.files.put_response(b'{"secret": "raw answer"}'))
    bundle = tmp_path / "posters.gptimg"
    export_project(store, "Posters", bundle)
    raw = bundle.read_bytes()
    contents = members(bundle)
    everything = raw + b"".join(contents.values())
    assert b"sk-" not in everything
    assert b"last_export_folder" not in everything and b"/home/designer" not in everything
    assert b"raw answer" not in everything and not any(name.startswith("files/responses") for name in contents)
    assert set(contents) == {"manifest.json", *(f"files/{rel}" for rel in manifest_of(bundle)["files"])}
    assert "[hidden]" in json.dumps(manifest_of(bundle)["jobs"])
    assert os.stat(bundle).st_size > 0 and not list(tmp_path.glob(".posters.gptimg.*"))


def test_export_refuses_unknown_names_and_missing_folders(source, tmp_path):
    store, ids = source
    with pytest.raises(RecordNotFound, match="no project named 'Nope'"):
        export_project(store, "Nope", tmp_path / "x.gptimg")
    with pytest.raises(RecordNotFound, match="no version"):
        export_branch(store, "0123456789ab", tmp_path / "x.gptimg")
    with pytest.raises(BundleError, match="does not exist"):
        export_project(store, "Posters", tmp_path / "no-folder" / "x.gptimg")
    store.get_version(ids["v5"]).path.unlink()
    with pytest.raises(BundleError, match="missing from the data folder"):
        export_project(store, "Posters", tmp_path / "x.gptimg")
    assert not (tmp_path / "x.gptimg").exists() and not list(tmp_path.glob(".x.gptimg.*"))


# ---------------------------------------------------------------------------------------------- hostile bundles
def rebuild(bundle: Path, dest: Path, *, drop=(), replace=None, add=(), manifest=None) -> Path:
    """A copy of ``bundle`` with members dropped, replaced or added, and the manifest edited by a function."""
    replace = replace or {}
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(dest, "w") as out:
        for info in src.infolist():
            if info.filename in drop:
                continue
            data = replace.get(info.filename, src.read(info))
            if info.filename == "manifest.json" and manifest is not None:
                doc = json.loads(data)
                manifest(doc)
                data = json.dumps(doc).encode()
            out.writestr(info, data)
        for info, data in add:
            out.writestr(info, data)
    return dest


def set_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Patch the central directory so ``name`` claims to unpack to ``size`` bytes."""
    buf = bytearray(data)
    pos = buf.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", buf, pos + 28)[0]
        if buf[pos + 46 : pos + 46 + name_len] == name.encode():
            struct.pack_into("<I", buf, pos + 24, size)
        pos = buf.find(b"PK\x01\x02", pos + 4)
    return bytes(buf)


def first_image(bundle: Path) -> str:
    return next(name for name in members(bundle) if name.startswith("files/images/"))


def _symlink(info_name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(info_name)
    info.external_attr = 0o120777 << 16
    return info


def _write(dest: Path, data: bytes) -> Path:
    dest.write_bytes(data)
    return dest


def _flip_one_byte(data: bytes) -> bytes:
    return data[:-20] + bytes([data[-20] ^ 0xFF]) + data[-19:]


ZEROS = bytes(2 * 1024 * 1024)
ZEROS_NAME = f"files/images/{hashlib.sha256(ZEROS).hexdigest()[:2]}/{hashlib.sha256(ZEROS).hexdigest()}.png"


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


HOSTILE = {
    "zip-slip": (lambda b, d: rebuild(b, d, add=[(zipfile.ZipInfo("../evil"), b"x")]), "leads outside"),
    "zip-slip-deep": (lambda b, d: rebuild(b, d, add=[(zipfile.ZipInfo("files/images/../../evil"), b"x")]),
                      "leads outside"),
    "absolute": (lambda b, d: rebuild(b, d, add=[(zipfile.ZipInfo("/tmp/evil"), b"x")]), "absolute path"),
    "windows-absolute": (lambda b, d: rebuild(b, d, add=[(zipfile.ZipInfo("C:/evil"), b"x")]), "absolute path"),
    "symlink": (lambda b, d: rebuild(b, d, add=[(_symlink("files/link"), b"/etc/passwd")]), "symbolic link"),
    "unexpected": (lambda b, d: rebuild(b, d, add=[(zipfile.ZipInfo("run.sh"), b"rm -rf /")]), "unexpected file"),
    "zip-bomb": (lambda b, d: rebuild(b, d, add=[(_deflated(ZEROS_NAME), ZEROS)]), "zip bomb"),
    "huge-declared": (
        lambda b, d: _write(d, set_declared_size(b.read_bytes(), first_image(b), 3_000_000_000)),
        "allowed for one file",
    ),
    "garbage": (lambda b, d: _write(d, os.urandom(4096)), "not a bundle"),
    "empty": (lambda b, d: _write(d, b""), "not a bundle"),
    "truncated": (lambda b, d: _write(d, b.read_bytes()[: len(b.read_bytes()) // 2]), "not a bundle"),
    "no-manifest": (lambda b, d: rebuild(b, d, drop=("manifest.json",)), "no manifest.json"),
    "manifest-not-json": (lambda b, d: rebuild(b, d, replace={"manifest.json": b"{not json"}), "not valid JSON"),
    "manifest-wrong-kind": (lambda b, d: rebuild(b, d, replace={"manifest.json": b"[1, 2]"}), "not a gptimg"),
    "newer-format": (lambda b, d: rebuild(b, d, manifest=lambda m: m.update(format_version=99)),
                     "format version 99"),
    "version-without-file": (lambda b, d: rebuild(b, d, manifest=lambda m: m["versions"][0].pop("file")),
                             "invalid 'file'"),
    "path-in-row": (lambda b, d: rebuild(b, d, manifest=lambda m: m["versions"][0].update(file="../../x.png")),
                    "invalid 'file'"),
    "file-not-in-bundle": (
        lambda b, d: rebuild(b, d, drop=(first_image(b),),
                             manifest=lambda m: m["files"].pop(first_image(b).removeprefix("files/"))),
        "refers to a file that is not in it",
    ),
    "listed-file-missing": (lambda b, d: rebuild(b, d, drop=(first_image(b),)), "missing the file"),
    "sha-mismatch": (lambda b, d: rebuild(b, d, replace={first_image(b): _flip_one_byte(members(b)[first_image(b)])}),
                     "checksum"),
    "parent-loop": (
        lambda b, d: rebuild(b, d, manifest=lambda m: m["versions"][0].update(parent_id=m["versions"][-1]["id"])),
        "their own ancestors",
    ),
    "orphan-version": (lambda b, d: rebuild(b, d, manifest=lambda m: m["versions"][0].update(job_id="nojob")),
                       "job that is not in it"),
    "lone-surrogate": (lambda b, d: rebuild(b, d, manifest=lambda m: m["versions"][0].update(prompt="\ud800")),
                       "not valid Unicode"),
    "duplicate-version": (lambda b, d: rebuild(b, d, manifest=lambda m: m["versions"].append(m["versions"][0])),
                          "same version twice"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_damaged_or_hostile_bundle_is_refused_and_changes_nothing(source, target, tmp_path, kind):
    store, ids = source
    good = tmp_path / "good.gptimg"
    export_branch(store, ids["v2"], good)
    make_version(target, "already here", project="Mine")
    build, fragment = HOSTILE[kind]
    bad = build(good, tmp_path / f"{kind}.gptimg")
    before = state(target)

    with pytest.raises(BundleError) as caught:
        import_bundle(target, bad)

    message = str(caught.value)
    assert fragment in message and "\n" not in message and len(message) < 300
    assert state(target) == before
    assert not (tmp_path / "evil").exists() and not Path("/tmp/evil").exists()


@pytest.mark.parametrize(
    "limits, fragment",
    [
        (BundleLimits(max_member_bytes=100), "allowed for one file"),
        (BundleLimits(max_total_bytes=1000), "unpacks to more than"),
        (BundleLimits(max_members=2), "more than the 2 allowed"),
    ],
)
def test_limits_on_size_and_member_count(source, target, tmp_path, limits, fragment):
    store, _ids = source
    export_project(store, "Posters", tmp_path / "p.gptimg")
    before = state(target)
    with pytest.raises(BundleError, match=fragment):
        import_bundle(target, tmp_path / "p.gptimg", limits=limits)
    assert state(target) == before


def test_a_missing_bundle_file_is_a_clear_error(target, tmp_path):
    with pytest.raises(BundleError, match="is not a file"):
        import_bundle(target, tmp_path / "nothing-here.gptimg")


# ---------------------------------------------------------------------------------------------- fuzzing
@pytest.fixture
def fuzz_setup(tmp_path):
    """A tiny valid bundle and a target history; the folders around it are watched for stray writes."""
    origin = HistoryStore(tmp_path / "origin", clock=Clock())
    v1 = make_version(origin, "fuzz root", inputs=[(image((1, 1, 1), (8, 8)), "in.png", "image")])
    make_version(origin, "fuzz child", parent=v1.id, color=(2, 2, 2))
    export_project(origin, "Posters", tmp_path / "valid.gptimg")
    origin.close()
    store = HistoryStore(tmp_path / "data", clock=Clock())
    yield store, (tmp_path / "valid.gptimg").read_bytes(), tmp_path
    store.close()


def outside_data(tmp_path: Path) -> set[tuple[str, int]]:
    return {
        (str(p.relative_to(tmp_path)), p.stat().st_size)
        for p in tmp_path.rglob("*")
        if p.is_file() and not p.is_relative_to(tmp_path / "data") and not p.is_relative_to(tmp_path / "in")
    }


def _try_import(store, tmp_path: Path, data: bytes) -> None:
    before = outside_data(tmp_path)
    (tmp_path / "in").mkdir(exist_ok=True)
    candidate = tmp_path / "in" / "candidate.gptimg"
    candidate.write_bytes(data)
    try:
        import_bundle(store, candidate)
    except BundleError as exc:
        assert "\n" not in str(exc) and str(exc)
    assert outside_data(tmp_path) == before
    store.list_versions()  # the history is still readable


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=2048))
def test_fuzz_random_bytes_are_refused(fuzz_setup, data):
    store, _valid, tmp_path = fuzz_setup
    with pytest.raises(BundleError):
        import_bundle_bytes(store, tmp_path, data)


def import_bundle_bytes(store, tmp_path: Path, data: bytes):
    (tmp_path / "in").mkdir(exist_ok=True)
    candidate = tmp_path / "in" / "candidate.gptimg"
    candidate.write_bytes(data)
    return import_bundle(store, candidate)


@FUZZ
@given(st.data())
def test_fuzz_mutated_bundles_only_ever_raise_bundle_error(fuzz_setup, data):
    store, valid, tmp_path = fuzz_setup
    mutated = bytearray(valid)
    for _ in range(data.draw(st.integers(1, 8), label="mutations")):
        op = data.draw(st.sampled_from(["flip", "cut", "insert", "zero-run"]), label="op")
        pos = data.draw(st.integers(0, max(0, len(mutated) - 1)), label="pos")
        if op == "flip" and mutated:
            mutated[pos] ^= data.draw(st.integers(1, 255), label="mask")
        elif op == "cut":
            del mutated[pos : pos + data.draw(st.integers(1, 64), label="length")]
        elif op == "insert":
            mutated[pos:pos] = data.draw(st.binary(min_size=1, max_size=16), label="bytes")
        else:
            mutated[pos : pos + 8] = bytes(8)
    _try_import(store, tmp_path, bytes(mutated))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@FUZZ
@given(st.data())
def test_fuzz_manifest_fields_with_random_values_only_ever_raise_bundle_error(fuzz_setup, data):
    store, valid, tmp_path = fuzz_setup
    with zipfile.ZipFile(io.BytesIO(valid)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        files = {info.filename: zf.read(info) for info in zf.infolist() if info.filename != "manifest.json"}
    section = data.draw(st.sampled_from(["top", "project", "jobs", "versions", "ledger"]), label="section")
    if section == "top":
        row = manifest
    elif section == "project":
        row = manifest["project"]
    else:
        row = data.draw(st.sampled_from(manifest[section]), label="row")
    key = data.draw(st.sampled_from(sorted(row)) | st.text(max_size=8), label="key")
    row[key] = data.draw(JSON_VALUES, label="value")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        out.writestr("manifest.json", json.dumps(manifest))
        for name, content in files.items():
            out.writestr(name, content)
    _try_import(store, tmp_path, buf.getvalue())
