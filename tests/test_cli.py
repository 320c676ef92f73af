"""The `gptimg` command line, run as a real subprocess against the local server over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

API_KEY = "sk-test-cli-0123456789abcdef"


@pytest.fixture
def run_cli(dev_server, gptimg_home):
    def run(*args: str, extra_env: dict | None = None, check_key_absent: bool = True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(
            OPENAI_BASE_URL=dev_server.url,
            OPENAI_API_KEY=API_KEY,
            GPTIMG_HOME=str(gptimg_home),
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        )
        env.update(extra_env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "gptimg_desktop.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        if check_key_absent:
            assert API_KEY not in proc.stdout and API_KEY not in proc.stderr
        return proc

    return run


def _photo(path: Path, size=(1024, 1024), color=(40, 120, 200)) -> Path:
    rng = np.random.default_rng(1)
    arr = np.full((size[1], size[0], 3), color, np.uint8)
    arr = np.clip(arr.astype(int) + rng.integers(-20, 20, arr.shape), 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path)
    return path


def test_generate_writes_files_of_the_requested_size_and_format(run_cli, tmp_path):
    out = tmp_path / "out"
    proc = run_cli(
        "generate",
        "a lighthouse at dusk",
        "--size",
        "1536x1024",
        "--quality",
        "low",
        "--format",
        "jpeg",
        "--compression",
        "80",
        "--out",
        str(out),
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert len(records) == 1
    rec = records[0]
    for key in (
        "id",
        "parent_id",
        "kind",
        "model",
        "prompt",
        "size",
        "quality",
        "status",
        "files",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "credits",
        "created_at",
    ):
        assert key in rec
    assert rec["status"] == "succeeded" and rec["kind"] == "generate" and rec["credits"] == 60
    assert rec["output_tokens"] > 0 and rec["cost_usd"] > 0
    with Image.open(rec["files"][0]) as img:
        assert img.size == (1536, 1024) and img.format == "JPEG"
    assert Path(rec["files"][0]).parent == out.resolve()


def test_generate_streaming_with_partials_prints_paths_and_progress(run_cli):
    proc = run_cli("generate", "poster with the word SALE", "--size", "1024x1024", "--partial-images", "2")
    assert proc.returncode == 0, proc.stderr
    paths = proc.stdout.split()
    assert len(paths) == 1 and Path(paths[0]).is_file()
    assert "preview 1" in proc.stderr and "preview 2" in proc.stderr


def test_edit_with_mask_and_parent_then_history_and_usage(run_cli, tmp_path):
    first = json.loads(run_cli("generate", "a red chair", "--size", "1024x1024", "--json").stdout)[0]
    mask = np.zeros((1024, 1024), np.uint8)
    mask[300:700, 300:700] = 255  # a painted mask: white = edit
    mask_path = tmp_path / "mask.png"
    Image.fromarray(mask).save(mask_path)
    proc = run_cli("edit", "make the chair blue", "--parent", first["id"], "--mask", str(mask_path), "--json")
    assert proc.returncode == 0, proc.stderr
    edit = json.loads(proc.stdout)[0]
    assert edit["parent_id"] == first["id"] and edit["kind"] == "edit"
    before = np.asarray(Image.open(first["files"][0]).convert("RGB")).astype(int)
    after = np.asarray(Image.open(edit["files"][0]).convert("RGB")).astype(int)
    assert (before[:200, :200] == after[:200, :200]).all()  # outside the mask: untouched
    assert np.abs(before[400:600, 400:600] - after[400:600, 400:600]).mean() > 5  # inside: changed

    history = json.loads(run_cli("history", "--json").stdout)
    assert [h["id"] for h in history] == [edit["id"], first["id"]]
    usage = json.loads(run_cli("usage", "--json").stdout)
    assert usage["images"] == 2 and usage["total_credits"] == 120
    assert usage["total_cost_usd"] == pytest.approx(first["cost_usd"] + edit["cost_usd"], abs=1e-6)


def test_edit_with_sixteen_images(run_cli, tmp_path):
    files = []
    for i in range(16):
        files += ["--image", str(_photo(tmp_path / f"ref{i}.png", (1024, 1024), (i * 15, 80, 200 - i * 10)))]
    proc = run_cli("edit", "combine these into a collage", *files, "--size", "1024x1024", "--json")
    assert proc.returncode == 0, proc.stderr
    rec = json.loads(proc.stdout)[0]
    assert rec["input_tokens"] > 16 * 1000  # every image was sent and counted


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("generate", "x", "--size", "1000x1000"), "992x992 or 1008x1008"),
        (("generate", "x", "--model", "dall-e-3"), "gpt-image-2"),
        (("generate", "x", "--background", "transparent"), "--for-cutout"),
        (("generate", "x", "-n", "11"), "between 1 and 10"),
        (("generate", ""), "prompt is empty"),
        (("edit", "x", "--image", "/nonexistent.png"), "no such file"),
    ],
)
def test_refused_requests_exit_2_with_one_line_and_no_network(run_cli, dev_server, args, fragment):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not [r for r in dev_server.requests if "/images/" in r.path]


def test_provider_failure_exits_1_with_a_clear_line_and_keeps_the_job(run_cli, dev_server):
    from gptimg_desktop.devserver.faults import Fault

    dev_server.faults.push(Fault(kind="quota"))
    proc = run_cli("generate", "a cat", "--size", "1024x1024")
    assert proc.returncode == 1
    assert "quota" in proc.stderr.lower() or "billing" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr
    history = json.loads(run_cli("history", "--json").stdout)
    assert history == []  # nothing billed, no version; the failed job itself is kept in the jobs table


def test_version_flag():
    proc = subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("gptimg ")
