"""`gptimg batch …` as a designer uses it: real subprocesses, the local Files and Batch APIs over HTTP, a real
history on disk. Submit a CSV of generations and edits, collect at half price, survive a kill, and see a failed
line, an expired batch and a cancelled batch each end as they should."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gptimg_desktop.core.pricing import PriceTable, Usage
from gptimg_desktop.devserver.batch_faults import BatchFault

API_KEY = "sk-test-batch-0123456789abcdef"


@pytest.fixture
def run_cli(dev_server, gptimg_home):
    def run(*args: str, extra_env: dict | None = None, timeout: float = 120):
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(OPENAI_BASE_URL=dev_server.url, OPENAI_API_KEY=API_KEY, GPTIMG_HOME=str(gptimg_home),
                   PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", GPTIMG_BATCH_POLL_SECONDS="0.1")
        env.update(extra_env or {})
        proc = subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", *args], capture_output=True, text=True,
                              env=env, timeout=timeout)
        assert API_KEY not in proc.stdout and API_KEY not in proc.stderr
        return proc

    run.home = gptimg_home
    return run


def _photo(path: Path, size=(1024, 1024), seed=1) -> Path:
    rng = np.random.default_rng(seed)
    arr = np.clip(rng.normal(120, 30, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path)
    return path


def _mask(path: Path, size=(1024, 1024)) -> Path:
    """An API mask: opaque, with a transparent square where the edit goes."""
    rgba = np.full((size[1], size[0], 4), 255, np.uint8)
    rgba[256:768, 256:768, 3] = 0
    Image.fromarray(rgba, "RGBA").save(path)
    return path


def _prompts(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "prompts.txt"
    path.write_text("\n".join(f"a paper lantern number {i}" for i in range(count)) + "\n")
    return path


def _submit(run_cli, path: Path, *extra: str) -> dict:
    proc = run_cli("batch", "submit", str(path), "--size", "1024x1024", "--quality", "low", "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _wait_remote(dev_server, batch_id: str, status: str | tuple[str, ...], timeout: float = 60.0) -> dict:
    wanted = (status,) if isinstance(status, str) else status
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = dev_server.batches.snapshot(dev_server.batches.get(batch_id))
        if snap["status"] in wanted:
            return snap
        time.sleep(0.05)
    raise AssertionError(f"batch {batch_id} never reached {wanted}")


def _history(run_cli) -> list[dict]:
    proc = run_cli("history", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _ledger(home: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(home / "history.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT l.*, v.model FROM ledger l LEFT JOIN versions v ON v.id = l.version_id").fetchall()
    finally:
        conn.close()


def test_a_csv_of_25_generations_and_edits_lands_25_versions_at_half_price(run_cli, dev_server, gptimg_home,
                                                                           tmp_path):
    _photo(tmp_path / "shoe.png", seed=2)
    _photo(tmp_path / "bag.png", seed=3)
    _mask(tmp_path / "mask.png")
    rows = []
    for i in range(25):
        row = {"prompt": f"product shot {i} on seamless paper", "size": "", "quality": "", "n": "", "image": "",
               "mask": "", "output_format": ""}
        if i % 5 == 1:
            row["image"] = "shoe.png"
        elif i % 5 == 2:
            row.update(image="shoe.png|bag.png", mask="mask.png")
        elif i % 5 == 3:
            row.update(output_format="jpeg", size="1536x1024")
        rows.append(row)
    sheet = tmp_path / "catalog.csv"
    with sheet.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    submitted = _submit(run_cli, sheet)
    assert submitted["requests"] == 25
    assert set(submitted["estimate"]) == {"credits", "usd"} and submitted["estimate"]["usd"] > 0
    by_endpoint = {b["endpoint"]: b for b in submitted["batches"]}
    assert by_endpoint["/v1/images/generations"]["requests"] == 15
    assert by_endpoint["/v1/images/edits"]["requests"] == 10

    # What was uploaded is valid JSONL for the endpoint, line by line, by the server's own validation.
    for entry in submitted["batches"]:
        batch = dev_server.batches.get(entry["batch_id"])
        data = dev_server.batches.get_file(batch.input_file_id).data
        lines, errors = dev_server.batches.validate(data, entry["endpoint"])
        assert errors == [] and len(lines) == entry["requests"]
        assert {line["url"] for line in lines} == {entry["endpoint"]}
        assert len({line["custom_id"] for line in lines}) == len(lines)
        if entry["endpoint"].endswith("edits"):
            masked = [line for line in lines if "mask" in line["body"]]
            assert len(masked) == 5 and all(len(line["body"]["images"]) == 2 for line in masked)
            assert all(img["image_url"].startswith("data:image/png;base64,")
                       for line in lines for img in line["body"]["images"])
    files_posts = [r for r in dev_server.requests if r.path == "/v1/files"]
    assert files_posts and all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in files_posts)

    proc = run_cli("batch", "collect", "--wait", "--json")
    assert proc.returncode == 0, proc.stderr
    collected = json.loads(proc.stdout)
    assert {c["status"] for c in collected} == {"completed"}
    versions = [v for c in collected for v in c["versions"]]
    assert len(versions) == 25 and not any(c["failed"] for c in collected)
    assert all(Path(f).is_file() for v in versions for f in v["files"])

    history = _history(run_cli)
    assert len(history) == 25 and {v["via"] for v in history} == {"batch"}
    assert sum(1 for v in history if v["kind"] == "edit") == 10

    prices = PriceTable()
    ledger = _ledger(gptimg_home)
    assert len(ledger) == 25 and {row["via"] for row in ledger} == {"batch"}
    for row in ledger:
        usage = Usage(input_tokens=row["input_tokens"], output_tokens=row["output_tokens"],
                      input_text_tokens=row["input_text_tokens"], input_image_tokens=row["input_image_tokens"],
                      output_image_tokens=row["output_image_tokens"])
        assert row["cost_usd"] == pytest.approx(prices.cost_usd(row["model"], usage) / 2, abs=1e-6)
        assert row["credits"] == prices.credits(1) // 2

    listing = json.loads(run_cli("batch", "list", "--json").stdout)
    assert {e["batch_id"] for e in listing} == set(by_endpoint[k]["batch_id"] for k in by_endpoint)
    assert sum(e["cost_usd"] for e in listing) == pytest.approx(sum(r["cost_usd"] for r in ledger), abs=1e-5)


def test_a_refused_row_exits_2_naming_its_line_and_nothing_is_sent(run_cli, dev_server, tmp_path):
    _photo(tmp_path / "ok.png")
    sheet = tmp_path / "rows.csv"
    sheet.write_text("prompt,image\na red kite,\nedit this,ok.png\na blue kite,\nand this,missing.png\n")
    proc = run_cli("batch", "submit", str(sheet))
    assert proc.returncode == 2
    assert "line 5" in proc.stderr and "missing.png" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    bad = tmp_path / "rows.jsonl"
    bad.write_text('{"prompt": "fine"}\n{"prompt": "too many", "n": 99}\n')
    proc = run_cli("batch", "submit", str(bad))
    assert proc.returncode == 2 and "line 2" in proc.stderr
    assert not [r for r in dev_server.requests if r.path.startswith(("/v1/files", "/v1/batches"))]
    assert json.loads(run_cli("batch", "list", "--json").stdout) == []


def test_a_collect_killed_midway_resumes_without_duplicates(run_cli, dev_server, gptimg_home, tmp_path):
    submitted = _submit(run_cli, _prompts(tmp_path, 6))
    batch_id = submitted["batches"][0]["batch_id"]
    _wait_remote(dev_server, batch_id, "completed")

    crashed = run_cli("batch", "collect", batch_id, extra_env={"GPTIMG_TEST_CRASH_AFTER": "batch_line_imported"})
    assert crashed.returncode != 0  # killed after its first imported line
    assert len(_history_without_resume(gptimg_home)) == 1

    proc = run_cli("batch", "collect", batch_id, "--json")
    assert proc.returncode == 0, proc.stderr
    [collected] = json.loads(proc.stdout)
    assert collected["status"] == "completed" and len(collected["versions"]) == 6
    assert len({v["custom_id"] for v in collected["versions"]}) == 6
    assert len(_history(run_cli)) == 6 and len(_ledger(gptimg_home)) == 6
    again = json.loads(run_cli("batch", "collect", batch_id, "--json").stdout)
    assert len(again[0]["versions"]) == 6 and len(_ledger(gptimg_home)) == 6
    # The output file was downloaded once and kept: the second run read it from disk.
    downloads = [r for r in dev_server.requests if r.path.endswith("/content")]
    assert len(downloads) == 1


def _history_without_resume(home: Path) -> list:
    conn = sqlite3.connect(home / "history.db")
    try:
        return conn.execute("SELECT id FROM versions").fetchall()
    finally:
        conn.close()


def test_a_failed_line_becomes_a_failed_job_with_the_apis_message(run_cli, dev_server, gptimg_home, tmp_path):
    dev_server.batches.settings.faults.append(BatchFault("fail_line", line=2, message="Blocked by the safety system."))
    submitted = _submit(run_cli, _prompts(tmp_path, 3))
    proc = run_cli("batch", "collect", "--wait", "--json")
    assert proc.returncode == 0, proc.stderr
    [collected] = json.loads(proc.stdout)
    assert collected["batch_id"] == submitted["batches"][0]["batch_id"]
    assert len(collected["versions"]) == 2
    assert [f["message"] for f in collected["failed"]] == ["Blocked by the safety system."]
    conn = sqlite3.connect(gptimg_home / "history.db")
    try:
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())
        error = conn.execute("SELECT error FROM jobs WHERE status = 'failed'").fetchone()[0]
    finally:
        conn.close()
    assert statuses == {"succeeded": 2, "failed": 1} and error == "Blocked by the safety system."


def test_an_expired_batch_keeps_what_finished_and_resubmits_the_rest(run_cli, dev_server, tmp_path):
    dev_server.batches.settings.faults.append(BatchFault("expire", after_lines=2))
    submitted = _submit(run_cli, _prompts(tmp_path, 5))
    batch_id = submitted["batches"][0]["batch_id"]
    proc = run_cli("batch", "collect", "--wait", "--json")
    [collected] = json.loads(proc.stdout)
    assert collected["status"] == "expired" and len(collected["versions"]) == 2
    assert len(collected["failed"]) == 3
    assert f"gptimg batch resubmit {batch_id}" in proc.stderr

    again = run_cli("batch", "resubmit", batch_id, "--json")
    assert again.returncode == 0, again.stderr
    new = json.loads(again.stdout)
    assert new["requests"] == 3 and new["batch_id"] != batch_id
    proc = run_cli("batch", "collect", new["batch_id"], "--wait", "--json")
    [second] = json.loads(proc.stdout)
    assert second["status"] == "completed" and len(second["versions"]) == 3
    history = _history(run_cli)
    assert len(history) == 5 and len({v["job_id"] for v in history}) == 5
    assert run_cli("batch", "resubmit", batch_id).returncode == 2  # nothing left to send again


def test_a_cancelled_batch_keeps_what_finished_and_cancels_the_rest(run_cli, dev_server, gptimg_home, tmp_path):
    dev_server.batches.settings.faults.append(BatchFault("hold", after_lines=1))
    submitted = _submit(run_cli, _prompts(tmp_path, 4))
    batch_id = submitted["batches"][0]["batch_id"]
    deadline = time.monotonic() + 60
    while dev_server.batches.get(batch_id).completed < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc = run_cli("batch", "cancel", batch_id)
    assert proc.returncode == 0, proc.stderr
    assert "cancel" in proc.stdout
    proc = run_cli("batch", "collect", batch_id, "--wait", "--json")
    [collected] = json.loads(proc.stdout)
    assert collected["status"] == "cancelled" and len(collected["versions"]) == 1
    status = json.loads(run_cli("batch", "status", batch_id, "--json").stdout)
    assert status["status"] == "cancelled" and status["requests"] == 4 and "errors" in status
    conn = sqlite3.connect(gptimg_home / "history.db")
    try:
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())
    finally:
        conn.close()
    assert statuses == {"succeeded": 1, "cancelled": 3}
    assert run_cli("batch", "cancel", batch_id).returncode == 2


def test_any_next_command_collects_a_finished_batch(run_cli, dev_server, tmp_path):
    submitted = _submit(run_cli, _prompts(tmp_path, 2))
    _wait_remote(dev_server, submitted["batches"][0]["batch_id"], "completed")
    proc = run_cli("usage", "--json")  # an unrelated command picks the results up
    assert proc.returncode == 0 and "collected" in proc.stderr
    assert len(_history(run_cli)) == 2
    listing = json.loads(run_cli("batch", "list", "--json").stdout)
    assert listing[0]["status"] == "completed" and listing[0]["completed"] == 2 and listing[0]["cost_usd"] > 0


def test_batches_need_a_real_provider(tmp_path, gptimg_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(GPTIMG_HOME=str(gptimg_home), PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    proc = subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", "batch", "submit", str(_prompts(tmp_path, 1))],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1 and "OPENAI_API_KEY" in proc.stderr and "Traceback" not in proc.stderr


def test_set_batch_makes_the_anchor_now_and_the_other_items_in_one_batch(run_cli, dev_server, tmp_path):
    vi = ("--field", "brand=Lume", "--field", "colours=terracotta and cream", "--field", "tagline=Roasted slowly")
    proc = run_cli("set", "vi", "A friendly coffee roaster in Lisbon.", *vi, "--quality", "low", "--batch", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["anchor"]["id"] == "logo" and Path(data["anchor"]["files"][0]).is_file()
    [batch] = data["batches"]
    assert batch["endpoint"] == "/v1/images/edits" and batch["requests"] == data["requests"] >= 5
    # Every batched item is an edit of the anchor: its image goes first in each line.
    lines, errors = dev_server.batches.validate(
        dev_server.batches.get_file(dev_server.batches.get(batch["batch_id"]).input_file_id).data, batch["endpoint"])
    assert errors == [] and all(line["body"]["images"] for line in lines)
    # Until a gptimg command collects the batch, the set has its anchor and every other item waiting on a job.
    conn = sqlite3.connect(run_cli.home / "history.db")  # read directly: any gptimg command would collect
    try:
        items = conn.execute("SELECT item_id, status, job_id FROM set_items").fetchall()
    finally:
        conn.close()
    assert sorted(status for _i, status, _j in items) == ["queued"] * batch["requests"] + ["succeeded"]
    assert all(job for _i, _s, job in items)

    proc = run_cli("batch", "collect", "--wait", "--json")
    [collected] = json.loads(proc.stdout)
    assert collected["status"] == "completed" and len(collected["versions"]) == batch["requests"]
    sets = json.loads(run_cli("sets", "--json").stdout)
    assert sets[0]["done"] == sets[0]["items"] == batch["requests"] + 1
    history = _history(run_cli)
    assert sorted(v["via"] for v in history).count("batch") == batch["requests"]
    anchor = next(v for v in history if v["via"] == "now")
    assert all(v["parent_id"] == anchor["id"] for v in history if v["via"] == "batch")


def test_channels_as_a_batch_deliver_exact_pixels_when_collected(run_cli, dev_server, tmp_path):
    made = run_cli("generate", "a lighthouse poster", "--size", "1024x1536", "--quality", "low", "--json")
    assert made.returncode == 0, made.stderr
    version_id = json.loads(made.stdout)[0]["id"]
    out = tmp_path / "channels"
    proc = run_cli("channels", version_id, "--preset", "instagram-post,story", "--size", "900x300", "--out", str(out),
                   "--batch", "--json")
    assert proc.returncode == 0, proc.stderr
    sent = json.loads(proc.stdout)
    assert sent["requests"] == 3 and sent["batches"][0]["endpoint"] == "/v1/images/edits"
    assert not out.exists() or not list(out.iterdir())  # nothing delivered before the results exist
    proc = run_cli("batch", "collect", "--wait", "--json")
    [collected] = json.loads(proc.stdout)
    assert collected["status"] == "completed" and len(collected["versions"]) == 3
    sizes = set()
    for path in out.iterdir():
        with Image.open(path) as img:
            sizes.add(f"{img.width}x{img.height}")
    assert sizes == {"1080x1080", "1080x1920", "900x300"}
    history = _history(run_cli)
    assert all(v["parent_id"] == version_id for v in history if v["via"] == "batch")


def test_a_collect_killed_from_outside_while_importing_resumes_without_duplicates(run_cli, dev_server, gptimg_home,
                                                                                  tmp_path):
    import signal

    submitted = _submit(run_cli, _prompts(tmp_path, 12))
    batch_id = submitted["batches"][0]["batch_id"]
    _wait_remote(dev_server, batch_id, "completed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_BASE_URL=dev_server.url, OPENAI_API_KEY=API_KEY, GPTIMG_HOME=str(gptimg_home),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    proc = subprocess.Popen([sys.executable, "-m", "gptimg_desktop.cli", "batch", "collect", "--wait"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if (gptimg_home / "history.db").exists() and _history_without_resume(gptimg_home):
            break  # the first image is in: kill it mid-import, as a power cut would
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    again = run_cli("batch", "collect", batch_id, "--json")
    assert again.returncode == 0, again.stderr
    [collected] = json.loads(again.stdout)
    assert len(collected["versions"]) == 12 and len({v["custom_id"] for v in collected["versions"]}) == 12
    assert len(_history_without_resume(gptimg_home)) == 12 and len(_ledger(gptimg_home)) == 12
