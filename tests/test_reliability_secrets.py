"""The API key never leaks: not into the data folder (history, WAL, logs, raw answers, exports, bundles,
autosave), not into output, log records, error messages or command lines. Plain http to another machine
is refused, TLS certificates are always checked, and the data folder is private.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import keyring
import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QWidget
from support import MemoryKeyring

from gptimg_desktop.core.requests import ImageRequest
from gptimg_desktop.devserver.faults import Fault
from gptimg_desktop.provider.client import ImagesClient
from gptimg_desktop.provider.config import ProviderConfig
from gptimg_desktop.provider.errors import ProviderConfigError
from gptimg_desktop.store.history import HistoryStore

KEY = "sk-proj-LEAKCHECK-" + secrets.token_hex(16)
SECRET_PART = KEY.split("LEAKCHECK-")[1]  # the random part: found even if a prefix were cut off
TIMEOUT_MS = 30_000


def _leaks(text: str | bytes) -> bool:
    if isinstance(text, bytes):
        return KEY.encode() in text or SECRET_PART.encode() in text
    return KEY in text or SECRET_PART in text


def _scan_tree(root: Path) -> list[Path]:
    """Every file under ``root`` whose bytes contain the key (history.db, -wal, logs, raw answers, …)."""
    leaked = []
    for path in root.rglob("*"):
        if path.is_file() and _leaks(path.read_bytes()):
            leaked.append(path)
    return leaked


def _photo(path: Path) -> Path:
    arr = np.zeros((1024, 1024, 3), np.uint8)
    arr[..., 1] = np.linspace(30, 200, 1024, dtype=np.uint8)[:, None]
    Image.fromarray(arr).save(path)
    return path




# ---------------------------------------------------------------------------------------------- the CLI


def test_the_cli_never_writes_or_prints_the_key(dev_server, gptimg_home, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GPTIMG_"))}
    env.update(OPENAI_BASE_URL=dev_server.url, OPENAI_API_KEY=KEY, GPTIMG_HOME=str(gptimg_home),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    outputs: list[str] = []

    def cli(*args: str, code: int | None = 0) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "gptimg_desktop.cli", *args], capture_output=True, text=True,
                              env=env, timeout=120, check=False)
        outputs.extend([proc.stdout, proc.stderr])
        if code is not None:
            assert proc.returncode == code, proc.stderr
        return proc

    photo = _photo(tmp_path / "photo.png")
    mask = np.zeros((1024, 1024), np.uint8)
    mask[200:500, 200:500] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    made = json.loads(cli("-v", "generate", "a lantern", "--size", "1024x1024", "--partial-images", "1",
                          "--json").stdout)
    cli("-v", "edit", "make it blue", "--image", str(photo), "--mask", str(tmp_path / "mask.png"), "--size",
        "1024x1024")
    for fault in (Fault(kind="auth"), Fault(kind="quota"), Fault(kind="moderation")):
        dev_server.faults.push(fault)
        cli("-v", "generate", "a failing lantern", "--size", "1024x1024", code=1)
    dev_server.faults.push(Fault(kind="cut_stream", after_partials=1))
    cli("-v", "generate", "a cut lantern", "--size", "1024x1024", "--partial-images", "2", code=1)
    cli("history", "--json")
    cli("usage", "--json")
    exported = tmp_path / "lantern.png"
    cli("export", made[0]["id"], str(exported))
    bundle = tmp_path / "default.gptimg"
    cli("project", "export", "Default", str(bundle))

    # The command line of a running job (what `ps` shows) does not carry the key either.
    dev_server.faults.push(Fault(kind="slow", delay=1.5))
    running = subprocess.Popen([sys.executable, "-m", "gptimg_desktop.cli", "generate", "a slow lantern", "--size",
                                "1024x1024"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while not [r for r in dev_server.requests if "/images/" in r.path and "slow" in str(r.json)]:
            assert time.monotonic() < deadline and running.poll() is None
            time.sleep(0.02)
        cmdline = Path(f"/proc/{running.pid}/cmdline").read_bytes()
        assert b"slow lantern" in cmdline and not _leaks(cmdline)
    finally:
        out, err = running.communicate(timeout=60)
    outputs.extend([out, err])
    assert running.returncode == 0, err

    assert not [text for text in outputs if _leaks(text)]
    assert _scan_tree(gptimg_home) == []
    assert not _leaks(exported.read_bytes()) and not _leaks(bundle.read_bytes())
    for folder in [gptimg_home, *[p for p in gptimg_home.rglob("*") if p.is_dir()]]:
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    # The key did reach the server, in the header only: the test would prove nothing otherwise.
    assert any(r.headers.get("authorization") == f"Bearer {KEY}" for r in dev_server.requests)


# ---------------------------------------------------------------------------------------------- the window


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def _widget_texts(window) -> list[str]:
    texts = [window.windowTitle(), window.statusBar().currentMessage()]
    for widget in window.findChildren(QWidget):
        for getter in ("text", "toPlainText", "toolTip", "accessibleName", "accessibleDescription", "placeholderText"):
            value = getattr(widget, getter, None)
            if callable(value):
                try:
                    result = value()
                except TypeError:
                    continue
                if isinstance(result, str):
                    texts.append(result)
    return texts


def test_the_window_with_a_keyring_key_never_shows_logs_or_stores_it(qtbot, dev_server, gptimg_home, monkeypatch,
                                                                     memory_keyring, caplog, capfd, tmp_path):
    from gptimg_desktop.app import create_window
    from gptimg_desktop.connection import account_for, save_provider
    from gptimg_desktop.provider.keys import SERVICE

    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    saved = {"kind": "compatible", "base_url": dev_server.url}
    with HistoryStore(gptimg_home) as store:
        save_provider(store, saved)
    memory_keyring.set_password(SERVICE, account_for(saved), KEY)

    window = create_window(environ={}, demo_delay=0.0)
    qtbot.addWidget(window)
    try:
        assert not window.services.choice.is_demo and window.services.choice.config.api_key == KEY
        window.open_image(str(_photo(tmp_path / "photo.png")))
        qtbot.waitUntil(lambda: not window.canvas.image().isNull(), timeout=5000)
        window.document.set_mask_array(np.pad(np.full((300, 300), 255, np.uint8), ((100, 624), (100, 624))))
        window.prompt.set_prompt("Paint a window on the wall")
        with qtbot.waitSignal(window.jobs.jobSucceeded, timeout=TIMEOUT_MS):
            assert window.prompt.request_run()
        for fault in (Fault(kind="auth"), Fault(kind="quota"), Fault(kind="cut_stream", after_partials=1),
                      Fault(kind="server_error", status=500, times=3)):
            dev_server.faults.push(fault)
            with qtbot.waitSignal(window.jobs.jobFailed, timeout=TIMEOUT_MS) as failed:
                assert window.prompt.request_run()
            assert not _leaks(failed.args[1])
            assert not [t for t in _widget_texts(window) if _leaks(t)]
        window.autosave.flush()
        assert (gptimg_home / "session" / "session.json").is_file()
        assert not _leaks(repr(window.services.choice.config)) and not _leaks(str(window.services.choice.config))
        assert not _leaks(json.dumps(window.services.choice.config.redacted()))
    finally:
        window.services.close()
    window.close()  # the normal close also saves the layout (config/ui.ini)

    records = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    assert records and not [r for r in records if _leaks(r)]
    out, err = capfd.readouterr()
    assert not _leaks(out) and not _leaks(err)
    assert _scan_tree(gptimg_home) == []
    assert (gptimg_home / "config" / "ui.ini").is_file()
    assert any(r.headers.get("authorization") == f"Bearer {KEY}" for r in dev_server.requests)


# ---------------------------------------------------------------------------------------------- transport safety


def test_plain_http_to_another_machine_is_refused_without_the_opt_in():
    sent = []
    insecure = ProviderConfig(kind="compatible", base_url="http://images.example.test/v1", api_key=KEY)
    with pytest.raises(ProviderConfigError) as refused:
        insecure.check()
    assert "unencrypted" in str(refused.value) and not _leaks(str(refused.value)) and not _leaks(repr(refused.value))
    client = ImagesClient(insecure, transport=httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(200)))
    with client, pytest.raises(ProviderConfigError):
        client.run(ImageRequest("a kite", size="1024x1024"))
    assert sent == []  # refused before anything (and the key) went out
    ProviderConfig(kind="compatible", base_url="http://images.example.test/v1", api_key=KEY,
                   allow_insecure_http=True).check()
    ProviderConfig(kind="compatible", base_url="http://127.0.0.1:8765/v1", api_key=KEY).check()  # loopback is fine


@pytest.mark.parametrize("base_url", ["https://api.openai.com/v1", "https://example.openai.azure.com"])
def test_tls_certificates_are_always_verified(base_url):
    kind = "azure" if "azure" in base_url else "openai"
    with ImagesClient(ProviderConfig(kind=kind, base_url=base_url, api_key=KEY)) as client:
        http = client._http.get()
        transports = [http._transport, *http._mounts.values()]
        for transport in transports:
            if transport is None:
                continue
            context = transport._pool._ssl_context
            assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert not _leaks(repr(ProviderConfig(kind=kind, base_url=base_url, api_key=KEY)))


def test_a_new_data_folder_is_private(tmp_path, monkeypatch):
    home = tmp_path / "fresh-home"
    monkeypatch.setenv("GPTIMG_HOME", str(home))
    old_umask = os.umask(0o022)
    try:
        with HistoryStore() as store:
            store.set_setting("theme", "dark")
    finally:
        os.umask(old_umask)
    assert home.stat().st_mode & 0o777 == 0o700
    for sub in ("images", "inputs", "thumbs", "responses", "exports", "logs"):
        assert (home / sub).stat().st_mode & 0o777 == 0o700
    with pytest.raises(ValueError, match="keyring"), HistoryStore(home) as store:
        store.set_setting("provider", {"base_url": "https://x.test", "api_key": KEY})
    assert _scan_tree(home) == []
