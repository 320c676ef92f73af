"""`gptimg templates / set / sets / channels`, run as real subprocesses against the local server over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest
from PIL import Image

from gptimg_desktop.core.models import get_model
from gptimg_desktop.core.sizes import is_valid, parse_size
from tests.support import gradient_photo

API_KEY = "sk-test-cli-sets-0123456789abcdef"
VI_ARGS = ("--field", "brand=Lume", "--field", "colours=terracotta and cream", "--field", "tagline=Roasted slowly")


@pytest.fixture
def run_cli(dev_server, gptimg_home):
    def run(*args: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(OPENAI_BASE_URL=dev_server.url, OPENAI_API_KEY=API_KEY, GPTIMG_HOME=str(gptimg_home),
                   PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
        proc = subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", *args], capture_output=True, text=True,
                              env=env, timeout=300)
        assert API_KEY not in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        return proc

    return run


def test_templates_json_lists_every_builtin_with_fields_and_items(run_cli):
    proc = run_cli("templates", "--json")
    assert proc.returncode == 0, proc.stderr
    data = {t["id"]: t for t in json.loads(proc.stdout)}
    assert {"ecommerce", "vi", "campaign", "storyboard", "character", "cover", "office"} <= set(data)
    vi = data["vi"]
    assert set(vi) == {"id", "name", "description", "fields", "items"}
    assert {"name": "brand", "label": "Brand name", "required": True} in vi["fields"]
    assert all(set(i) == {"id", "name", "size", "anchor"} for i in vi["items"])
    assert [i["id"] for i in vi["items"] if i["anchor"]] == ["logo"]


def test_set_vi_makes_the_anchor_then_edits_with_the_anchor_as_image_1(run_cli, dev_server, tmp_path):
    out = tmp_path / "delivery"
    proc = run_cli("set", "vi", "A friendly coffee roaster in Lisbon.", *VI_ARGS, "--quality", "low",
                   "--project", "Lume", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"set_id", "items"} and data["set_id"]
    items = data["items"]
    assert len(items) >= 6 and items[0]["id"] == "logo"
    for item in items:
        assert set(item) == {"id", "version_id", "status", "files", "size", "cost_usd", "credits"}
        assert item["status"] == "succeeded" and item["cost_usd"] > 0
        with Image.open(item["files"][0]) as img:
            assert f"{img.width}x{img.height}" == item["size"]
    sent = [r for r in dev_server.requests if r.path.startswith("/v1/images/")]
    assert len(sent) == len(items)
    assert sent[0].path.endswith("/generations")
    anchor_bytes = open(items[0]["files"][0], "rb").read()
    spec = get_model("gpt-image-2")
    for req in sent[1:]:
        assert req.path.endswith("/edits")
        assert req.files[0][3] == anchor_bytes  # the anchor is input image 1
        assert is_valid(spec, parse_size(req.fields["size"]))
        assert req.fields["prompt"].startswith("Image 1: the approved logo")
        assert "Keep consistent across the set:" in req.fields["prompt"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert [i["id"] for i in manifest["items"]] == [i["id"] for i in items]
    assert (out / "contact-sheet.png").is_file()

    listed = run_cli("sets", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert rows[0]["id"] == data["set_id"]
    assert set(rows[0]) == {"id", "template", "brief", "project", "created_at", "items", "done", "cost_usd"}
    assert rows[0]["items"] == rows[0]["done"] == len(items) and rows[0]["project"] == "Lume"


def test_dry_run_json_shape_and_nothing_sent(run_cli, dev_server, tmp_path):
    ref = gradient_photo(tmp_path / "palette.png")
    proc = run_cli("set", "vi", "A bakery.", *VI_ARGS, "--ref", f"{ref}:palette", "--items", "avatar,tote",
                   "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["set_id"] is None and set(data) == {"set_id", "items", "estimate"}
    assert set(data["estimate"]) == {"credits", "usd"} and data["estimate"]["credits"] > 0
    assert [i["id"] for i in data["items"]] == ["logo", "tote", "avatar"]
    for item in data["items"]:
        assert set(item) == {"id", "prompt", "size", "quality", "kind", "anchor"}
        assert item["kind"] == "edit"  # the pinned reference makes even the anchor an edit
    assert data["items"][0]["anchor"] is True
    assert not [r for r in dev_server.requests if r.path.startswith("/v1/images/")]


@pytest.mark.parametrize("args, phrase", [
    (("set", "vi", "A bakery.", "--field", "brand=Lume"), "colours"),
    (("set", "vi", "A bakery.", "--field", "colours=red"), "brand"),
    (("set", "nope", "A bakery."), "no template 'nope'"),
    (("set", "vi", "A bakery.", *VI_ARGS, "--items", "poster"), "no item 'poster'"),
    (("set", "vi", "A bakery.", *VI_ARGS, "--field", "oops"), "NAME=VALUE"),
    (("set", "vi", "A bakery.", *VI_ARGS, "--ref", "/no/such.png"), "no such file"),
    (("set", "vi", "A bakery.", *VI_ARGS, "--quality", "ultra"), "Quality"),
    (("set", "vi", "  ", *VI_ARGS), "brief is empty"),
    (("channels", "--preset", "story"), "VERSION_ID"),
    (("channels", "abc", "--preset", "story"), "No version 'abc'"),
])
def test_bad_input_is_refused_with_exit_2_and_nothing_sent(run_cli, dev_server, args, phrase):
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert phrase in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 2
    assert not [r for r in dev_server.requests if r.path.startswith("/v1/images/")]


def test_set_over_budget_is_refused_before_sending(run_cli, dev_server):
    assert run_cli("budget", "--credits", "10").returncode == 0
    proc = run_cli("set", "vi", "A bakery.", *VI_ARGS)
    assert proc.returncode == 2 and "budget" in proc.stderr.lower()
    assert not [r for r in dev_server.requests if r.path.startswith("/v1/images/")]


def test_channels_write_exact_sizes(run_cli, dev_server, tmp_path):
    made = run_cli("generate", "a lighthouse poster", "--size", "1024x1536", "--quality", "low", "--json")
    assert made.returncode == 0, made.stderr
    version_id = json.loads(made.stdout)[0]["id"]
    dry = run_cli("channels", version_id, "--preset", "instagram-post,story", "--preset", "linkedin-banner",
                  "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert [r["api_size"] for r in json.loads(dry.stdout)] == ["1088x1088", "1088x1936", "1584x528"]
    before = len(dev_server.requests)
    proc = run_cli("channels", version_id, "--preset", "instagram-post,story,linkedin-banner", "--size", "900x300",
                   "--out", str(tmp_path / "channels"), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["size"] for r in rows] == ["1080x1080", "1080x1920", "1584x396", "900x300"]
    for row in rows:
        assert set(row) == {"preset", "size", "api_size", "version_id", "files", "cost_usd"}
        with Image.open(row["files"][0]) as img:
            assert f"{img.width}x{img.height}" == row["size"]
        assert is_valid(get_model("gpt-image-2"), parse_size(row["api_size"]))
    assert "cropped" in proc.stderr  # linkedin-banner is 4:1, past the model's 3:1
    sent = dev_server.requests[before:]
    assert [r.fields["size"] for r in sent] == [r["api_size"] for r in rows]
    listing = run_cli("channels", "--list", "--json")
    presets = {p["name"]: (p["width"], p["height"]) for p in json.loads(listing.stdout)}
    assert presets["linkedin-banner"] == (1584, 396) and presets["a4-poster"] == (2480, 3508)


def test_zip_delivery_via_out_path_is_a_folder_and_bundle_export_reads_back(run_cli, tmp_path, gptimg_home):
    proc = run_cli("set", "office", "Quarterly results for a solar company.", "--field", "topic=solar growth",
                   "--quality", "low", "--items", "slide", "--json")
    assert proc.returncode == 0, proc.stderr
    set_id = json.loads(proc.stdout)["set_id"]
    from gptimg_desktop.jobs.set_delivery import export_set
    from gptimg_desktop.store.history import HistoryStore

    with HistoryStore(gptimg_home) as store:
        delivery = export_set(store, set_id, tmp_path / "office.zip")
    with zipfile.ZipFile(delivery.path) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert {"01-report.png", "02-slide.png", "contact-sheet.png", "manifest.json"} <= names
    assert all(i["file"] in names for i in manifest["items"])


def test_a_failed_anchor_stops_the_set_with_exit_1_and_keeps_the_record(run_cli, dev_server):
    from gptimg_desktop.devserver.faults import Fault

    dev_server.faults.push(Fault("moderation"))
    proc = run_cli("set", "office", "Quarterly results.", "--field", "topic=solar", "--quality", "low", "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert [(i["id"], i["status"]) for i in data["items"]] == [
        ("report", "failed"), ("slide", "planned"), ("resume-header", "planned")]
    assert "not made" in proc.stderr
    # Only the anchor was sent: nothing is made from an anchor that does not exist.
    assert len([r for r in dev_server.requests if r.path.startswith("/v1/images/")]) == 1
    rows = json.loads(run_cli("sets", "--json").stdout)
    assert rows[0]["id"] == data["set_id"] and rows[0]["done"] == 0
