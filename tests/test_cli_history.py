"""`gptimg` export, project bundles, budgets and stars, run as real subprocesses against the local server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from gptimg_desktop.core.export import read_metadata

API_KEY = "sk-test-cli-history-0123456789abcdef"
PROMPT = "Café — 東京 poster"


@pytest.fixture
def run_cli(dev_server, gptimg_home):
    def run(*args: str, home: Path | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(
            OPENAI_BASE_URL=dev_server.url,
            OPENAI_API_KEY=API_KEY,
            GPTIMG_HOME=str(home or gptimg_home),
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        )
        proc = subprocess.run(
            [sys.executable, "-m", "gptimg_desktop.cli", *args], capture_output=True, text=True, env=env, timeout=120,
            check=False,
        )
        assert API_KEY not in proc.stdout and API_KEY not in proc.stderr
        assert "Traceback" not in proc.stderr
        return proc

    return run


def generate(run_cli, prompt="a lighthouse", *extra, home=None) -> dict:
    proc = run_cli("generate", prompt, "--size", "1024x1024", "--quality", "low", "--json", *extra, home=home)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)[0]


def image_requests(dev_server) -> int:
    return len([r for r in dev_server.requests if "/images/" in r.path])


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# ---------------------------------------------------------------------------------------------- export
def test_export_embeds_the_provenance_in_png_jpeg_and_webp(run_cli, tmp_path):
    first = generate(run_cli, PROMPT)
    edit = json.loads(run_cli("edit", "add a moon", "--parent", first["id"], "--quality", "low", "--json").stdout)[0]

    for name in ("poster.png", "poster.jpg", "poster.webp", "edit.jpeg"):
        version = edit if name.startswith("edit") else first
        proc = run_cli("export", version["id"], str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        path = Path(proc.stdout.strip())
        assert path == tmp_path / name and path.is_file()
        meta = read_metadata(path)
        assert meta["prompt"] == version["prompt"] and meta["version"] == version["id"]
        assert meta["model"] == version["model"] and meta["size"] == version["size"]
        assert meta["quality"] == version["quality"]
        with Image.open(path) as img:
            assert img.size == (1024, 1024)
            assert img.format == {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}[path.suffix]
            if img.format == "PNG":
                assert img.text["gptimg:prompt"] == PROMPT
            else:
                # EXIF UserComment in the Exif IFD, with the UNICODE charset code, and XMP in UTF-8.
                comment = img.getexif().get_ifd(0x8769)[0x9286]
                assert comment[:8] == (b"UNICODE\0" if version is first else b"ASCII\0\0\0")
                assert version["prompt"].encode() in img.info["xmp"]
    assert read_metadata(tmp_path / "edit.jpeg")["parent"] == first["id"]
    assert "parent" not in read_metadata(tmp_path / "poster.png")
    assert not list(tmp_path.glob(".*.tmp"))


def test_export_refuses_unknown_formats_versions_and_folders(run_cli, tmp_path):
    first = generate(run_cli)
    proc = run_cli("export", first["id"], str(tmp_path / "poster.gif"))
    assert proc.returncode == 2 and ".gif" in one_line(proc.stderr)
    proc = run_cli("export", "000000000000", str(tmp_path / "poster.png"))
    assert proc.returncode == 2 and "No version '000000000000'" in one_line(proc.stderr)
    proc = run_cli("export", first["id"], str(tmp_path / "missing" / "poster.png"))
    assert proc.returncode == 2 and "does not exist" in one_line(proc.stderr)
    assert list(tmp_path.iterdir()) == [tmp_path / "gptimg-home"]


# ---------------------------------------------------------------------------------------------- projects
def test_a_project_moves_between_two_homes_through_a_bundle(run_cli, tmp_path):
    first = generate(run_cli, PROMPT, "--project", "Posters")
    edit_proc = run_cli("edit", "add a moon", "--parent", first["id"], "--project", "Posters", "--json")
    edit = json.loads(edit_proc.stdout)[0]
    assert run_cli("star", first["id"]).returncode == 0
    generate(run_cli, "stays home")  # Default project: not part of the bundle

    bundle = tmp_path / "posters.gptimg"
    proc = run_cli("project", "export", "Posters", str(bundle))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Exported project Posters: 2 versions, 2 jobs") and bundle.is_file()
    with zipfile.ZipFile(bundle) as zf:
        assert all(API_KEY.encode() not in zf.read(info) for info in zf.infolist())

    other = tmp_path / "other-home"
    other.mkdir()
    proc = run_cli("project", "import", str(bundle), home=other)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Imported 2 versions and 2 jobs into project Posters."

    # An import gets fresh ids (it never merges into or grafts onto a history); the records are the same.
    here = {r["prompt"]: r for r in json.loads(run_cli("history", "--json", "--project", "Posters").stdout)}
    there = {r["prompt"]: r for r in json.loads(run_cli("history", "--json", home=other).stdout)}
    assert there.keys() == here.keys() == {PROMPT, "add a moon"}
    for prompt, record in here.items():
        for key in ("prompt", "starred", "project", "credits", "size", "model", "created_at"):
            assert there[prompt][key] == record[key], key
        assert Path(there[prompt]["files"][0]).read_bytes() == Path(record["files"][0]).read_bytes()
        assert Path(there[prompt]["files"][0]).is_relative_to(other)
    assert there[PROMPT]["starred"] is True and there["add a moon"]["parent_id"] == there[PROMPT]["id"]
    assert there[PROMPT]["id"] not in (first["id"], edit["id"])

    again = run_cli("project", "import", str(bundle), home=other)
    assert again.returncode == 0 and "into project Posters (imported)" in again.stdout  # a copy, never a merge
    assert len(json.loads(run_cli("history", "--json", "--project", "Posters", home=other).stdout)) == 2


def test_a_hostile_bundle_is_refused_with_exit_2(run_cli, tmp_path):
    garbage = tmp_path / "garbage.gptimg"
    garbage.write_bytes(os.urandom(2000))
    proc = run_cli("project", "import", str(garbage))
    assert proc.returncode == 2 and "not a bundle" in one_line(proc.stderr)

    slip = tmp_path / "slip.gptimg"
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("manifest.json", "{}")
        zf.writestr("../../evil.sh", "echo owned")
    proc = run_cli("project", "import", str(slip))
    assert proc.returncode == 2 and "leads outside" in one_line(proc.stderr)
    assert not (tmp_path / "evil.sh").exists()
    assert json.loads(run_cli("project", "list", "--json").stdout)[0]["name"] == "Default"


def test_projects_can_be_created_renamed_listed_and_deleted_keeping_files(run_cli):
    assert run_cli("project", "create", "Posters").stdout.strip() == "Created project Posters."
    proc = run_cli("project", "create", "Posters")
    assert proc.returncode == 2 and "already exists" in one_line(proc.stderr)
    kept = generate(run_cli, "a poster", "--project", "Posters")
    proc = run_cli("project", "rename", "Posters", "Posters 2026")
    assert proc.returncode == 0 and "Posters 2026" in proc.stdout
    projects = {p["name"]: p for p in json.loads(run_cli("project", "list", "--json").stdout)}
    assert projects["Posters 2026"]["versions"] == 1 and projects["Posters 2026"]["used_credits"] == 60
    assert "Posters 2026  ·  1 versions" in run_cli("project", "list").stdout

    proc = run_cli("project", "delete", "Posters 2026")
    assert proc.returncode == 2 and "--yes" in one_line(proc.stderr)
    assert len(json.loads(run_cli("history", "--json").stdout)) == 1
    proc = run_cli("project", "delete", "Posters 2026", "--yes")
    assert proc.returncode == 0 and "image files are still" in proc.stdout
    assert json.loads(run_cli("history", "--json").stdout) == []
    assert Path(kept["files"][0]).is_file()
    proc = run_cli("project", "rename", "Nope", "Other")
    assert proc.returncode == 2 and "no project named 'Nope'" in one_line(proc.stderr)


# ---------------------------------------------------------------------------------------------- budgets
def test_budget_can_be_set_shown_and_cleared(run_cli):
    assert run_cli("project", "create", "Posters").returncode == 0
    proc = run_cli("budget", "--project", "Posters", "--credits", "1000", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"project": "Posters", "budget_credits": 1000, "budget_usd": None,
                                       "used_credits": 0, "used_usd": 0.0, "level": "ok"}
    generate(run_cli, "a poster", "--project", "Posters")
    status = json.loads(run_cli("budget", "--project", "Posters", "--json").stdout)
    assert status["used_credits"] == 60 and status["budget_credits"] == 1000 and status["used_usd"] > 0
    assert run_cli("budget", "--project", "Posters").stdout.strip().startswith(
        "Project Posters: 60 / 1,000 credits (6 %)"
    )

    proc = run_cli("budget", "--usd", "2.5", "--json")  # the overall budget
    overall = json.loads(proc.stdout)
    assert overall["project"] is None and overall["budget_usd"] == 2.5 and overall["budget_credits"] is None
    assert run_cli("budget", "--credits", "100", "--json").stdout.count('"budget_usd": 2.5') == 1  # usd kept
    cleared = json.loads(run_cli("budget", "--clear", "--json").stdout)
    assert cleared["budget_credits"] is None and cleared["budget_usd"] is None

    for args, fragment in [
        (("--credits", "-5"), "0 or more"),
        (("--usd", "nan"), "0 or more"),
        (("--project", "Nope", "--credits", "5"), "no project named 'Nope'"),
        (("--clear", "--credits", "5"), "either --clear"),
    ]:
        proc = run_cli("budget", *args)
        assert proc.returncode == 2 and fragment in one_line(proc.stderr)


def test_a_job_over_budget_is_refused_unless_over_budget_is_given(run_cli, dev_server):
    assert run_cli("project", "create", "Posters").returncode == 0
    assert run_cli("budget", "--project", "Posters", "--credits", "150").returncode == 0

    first = run_cli("generate", "one", "--project", "Posters", "--quality", "low", "--size", "1024x1024")
    assert first.returncode == 0 and "budget" not in first.stderr  # 60 of 150: fine
    second = run_cli("generate", "two", "--project", "Posters", "--quality", "low", "--size", "1024x1024")
    assert second.returncode == 0
    assert "note: This job (≈ 60 credits) brings project Posters to 80 % of its budget" in second.stderr

    sent = image_requests(dev_server)
    third = run_cli("generate", "three", "--project", "Posters", "--quality", "low", "--size", "1024x1024")
    assert third.returncode == 2
    line = one_line(third.stderr)
    assert ("This job (≈ 60 credits) would take project Posters past its budget of 150 credits (120 used)."
            in line) and "--over-budget" in line
    assert image_requests(dev_server) == sent  # refused before anything was sent

    forced = run_cli("generate", "three", "--project", "Posters", "--quality", "low", "--size", "1024x1024",
                     "--over-budget")
    assert forced.returncode == 0 and "Running anyway" in forced.stderr
    assert image_requests(dev_server) == sent + 1

    # Now past the limit: even an edit is refused, and the other projects are not affected.
    used_up = run_cli("edit", "four", "--image", json.loads(run_cli("history", "--json").stdout)[0]["files"][0],
                      "--project", "Posters")
    assert used_up.returncode == 2 and "used up its budget of 150 credits (180 used)" in one_line(used_up.stderr)
    assert run_cli("generate", "elsewhere", "--size", "1024x1024", "--quality", "low").returncode == 0

    # The overall budget applies to every project.
    assert run_cli("budget", "--credits", "250").returncode == 0
    overall = run_cli("generate", "five", "--size", "1024x1024", "--quality", "low")
    assert overall.returncode == 2 and "would take you past your overall budget" in one_line(overall.stderr)


# ---------------------------------------------------------------------------------------------- stars
def test_history_json_has_stars_and_projects_and_can_show_only_starred(run_cli):
    a = generate(run_cli, "a", "--project", "Posters")
    b = generate(run_cli, "b")
    proc = run_cli("star", a["id"])
    assert proc.returncode == 0 and proc.stdout.strip() == f"Starred {a['id']}."

    records = {r["id"]: r for r in json.loads(run_cli("history", "--json").stdout)}
    assert (records[a["id"]]["starred"], records[a["id"]]["project"]) == (True, "Posters")
    assert (records[b["id"]]["starred"], records[b["id"]]["project"]) == (False, "Default")
    assert [r["id"] for r in json.loads(run_cli("history", "--starred", "--json").stdout)] == [a["id"]]
    assert "★" in run_cli("history", "--starred").stdout

    assert run_cli("star", a["id"], "--off").stdout.strip() == f"Unstarred {a['id']}."
    assert json.loads(run_cli("history", "--starred", "--json").stdout) == []
    proc = run_cli("star", "000000000000")
    assert proc.returncode == 2 and "no version 000000000000" in one_line(proc.stderr)

