"""`gptimg-desktop --selftest` and `--version`, run as real processes from the source tree."""

from __future__ import annotations

import os
import subprocess
import sys

from gptimg_desktop import __version__


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(QT_QPA_PLATFORM="offscreen", GPTIMG_HOME=str(tmp_path / "home"),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    return env


def test_selftest_runs_a_scripted_session_against_the_local_server(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gptimg_desktop", "--selftest"], capture_output=True, text=True,
                          env=_env(tmp_path), timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "masked edit stored" in proc.stdout and proc.stdout.rstrip().endswith("OK")


def test_selftest_ignores_a_configured_provider(tmp_path):
    env = _env(tmp_path)
    env.update(OPENAI_API_KEY="sk-should-not-be-used-0123456789", OPENAI_BASE_URL="http://127.0.0.1:9/v1")
    proc = subprocess.run([sys.executable, "-m", "gptimg_desktop", "--selftest"], capture_output=True, text=True,
                          env=env, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "sk-should-not-be-used" not in proc.stdout + proc.stderr


def test_version_flag(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gptimg_desktop", "--version"], capture_output=True, text=True,
                          env=_env(tmp_path), timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"gptimg-desktop {__version__}"
