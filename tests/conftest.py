"""Shared fixtures: offscreen Qt, an isolated data folder, a real local Images API server."""

from __future__ import annotations

import os

# Qt reads the platform when the QApplication is created; pytest-qt creates it lazily.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Never let a test reach a real keyring or a real provider configured on the machine.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "AZURE_OPENAI_API_KEY"):
    os.environ.pop(_var, None)

import pytest  # noqa: E402


@pytest.fixture
def gptimg_home(tmp_path, monkeypatch):
    """A fresh data folder for the app, as GPTIMG_HOME."""
    home = tmp_path / "gptimg-home"
    home.mkdir()
    monkeypatch.setenv("GPTIMG_HOME", str(home))
    return home


@pytest.fixture
def dev_server():
    """The local OpenAI-compatible Images API on 127.0.0.1, on a free port, no artificial delay."""
    from gptimg_desktop.devserver.server import DevServer

    server = DevServer(port=0, delay=0.0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def window(qtbot, gptimg_home, monkeypatch):
    """The real editor window in demo mode (its own local server), shown offscreen at a desktop size."""
    from gptimg_desktop.app import create_window

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    win = create_window(environ={}, demo_delay=0.02)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.services.close()
