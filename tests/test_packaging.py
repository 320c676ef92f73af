"""Packaging: the PyInstaller build runs its selftest, and the Linux desktop files and install scripts are right."""

from __future__ import annotations

import configparser
import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DESKTOP_FILE = PACKAGING / "linux" / "gptimg-desktop.desktop"
METAINFO = PACKAGING / "linux" / "app.gptimg.desktop.metainfo.xml"
SPEC = PACKAGING / "gptimg-desktop.spec"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
MIME_TYPES = {"image/png", "image/jpeg", "image/webp"}
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux desktop integration")


def _desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # desktop entry keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def _split(value: str) -> list[str]:
    return [part for part in value.split(";") if part]


# --- static files ---------------------------------------------------------------------------------------

def test_desktop_entry_opens_images_with_the_app():
    entry = _desktop_entry(DESKTOP_FILE)

    assert entry["Type"] == "Application"
    assert entry["Name"] == "gptimg-desktop"
    assert entry["Exec"] == "gptimg-desktop %f"
    assert entry["Icon"] == "gptimg-desktop"
    assert entry["Terminal"] == "false"
    assert set(_split(entry["MimeType"])) == MIME_TYPES
    assert entry["MimeType"].endswith(";") and entry["Categories"].endswith(";")
    assert _split(entry["Categories"]) == ["Graphics", "2DGraphics", "RasterGraphics"]


def test_metainfo_names_the_app_its_launcher_and_this_version():
    ns_free = ET.parse(METAINFO).getroot()

    assert ns_free.tag == "component" and ns_free.get("type") == "desktop-application"
    assert ns_free.findtext("id") == "app.gptimg.desktop"
    assert ns_free.findtext("name") == "gptimg-desktop"
    assert ns_free.findtext("summary")
    assert ns_free.find("description/p") is not None
    launchable = ns_free.find("launchable")
    assert launchable.get("type") == "desktop-id" and launchable.text == DESKTOP_FILE.name
    assert [b.text for b in ns_free.findall("provides/binary")] == ["gptimg-desktop"]
    assert {m.text for m in ns_free.findall("provides/mediatype")} == MIME_TYPES
    assert ns_free.find("content_rating").get("type") == "oars-1.1"
    assert ns_free.find("releases/release").get("version") == VERSION  # the newest release comes first
    # Screenshots only with a real public URL; there is none yet, so none are listed.
    assert ns_free.find("screenshots") is None


@pytest.mark.parametrize(
    ("tool", "args", "path"),
    [("desktop-file-validate", [], DESKTOP_FILE), ("appstreamcli", ["validate", "--no-net"], METAINFO)],
)
def test_linux_metadata_passes_the_freedesktop_validators(tool, args, path):
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed (Debian: desktop-file-utils / appstream)")
    proc = subprocess.run([exe, *args, str(path)], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_resources_are_found_with_every_icon_the_spec_and_installer_use():
    from gptimg_desktop.ui.theme.resources import resource_root

    root = resource_root()
    assert (root / "icons" / "app-256.png").is_file()
    for name in ("app.ico", "app.icns", *(f"app-{n}.png" for n in (16, 24, 32, 48, 64, 128, 256, 512))):
        assert (root / "icons" / name).is_file(), name
    # Installed (or editable): importlib.resources must be what finds them, as in the bundle.
    if importlib.util.find_spec("gptimg_desktop.resources") is not None:
        from importlib import resources

        assert Path(str(resources.files("gptimg_desktop.resources"))).resolve() == root.resolve()


def test_spec_and_launcher_compile():
    compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec")
    launcher = PACKAGING / "launcher.py"
    compile(launcher.read_text(encoding="utf-8"), str(launcher), "exec")


@linux_only
@pytest.mark.parametrize("script", ["build.sh", "linux/install.sh", "linux/uninstall.sh"])
def test_shell_scripts_parse(script):
    proc = subprocess.run(["bash", "-n", str(PACKAGING / script)], check=False, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert os.access(PACKAGING / script, os.X_OK)


@linux_only
def test_install_and_uninstall_for_one_user(tmp_path):
    # A stand-in for the built folder: an executable and the bundled icons, where PyInstaller puts them.
    built = tmp_path / "dist" / "gptimg-desktop"
    icons = built / "_internal" / "gptimg_desktop" / "resources" / "icons"
    icons.mkdir(parents=True)
    for png in (ROOT / "resources" / "icons").glob("app-*.png"):
        shutil.copy(png, icons / png.name)
    exe = built / "gptimg-desktop"
    exe.write_text("#!/bin/sh\necho fake gptimg-desktop\n")
    exe.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    env["HOME"] = str(home)

    proc = subprocess.run(["bash", str(PACKAGING / "linux" / "install.sh"), str(built)], check=False, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr

    opt = home / ".local" / "opt" / "gptimg-desktop"
    share = home / ".local" / "share"
    assert (opt / "gptimg-desktop").is_file()
    link = home / ".local" / "bin" / "gptimg-desktop"
    started = subprocess.run([str(link)], check=False, capture_output=True, text=True)
    assert started.stdout.strip() == "fake gptimg-desktop"
    entry = _desktop_entry(share / "applications" / "gptimg-desktop.desktop")
    assert entry["Exec"] == f'"{opt}/gptimg-desktop" %f'
    assert set(_split(entry["MimeType"])) == MIME_TYPES
    for size in (16, 48, 256, 512):
        icon = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "gptimg-desktop.png"
        assert icon.read_bytes() == (ROOT / "resources" / "icons" / f"app-{size}.png").read_bytes()
    assert (share / "metainfo" / METAINFO.name).read_bytes() == METAINFO.read_bytes()
    # The user's data folder is not the installer's to touch.
    data = share / "gptimg-desktop"
    data.mkdir()
    (data / "history.db").write_bytes(b"keep me")

    proc = subprocess.run(["bash", str(PACKAGING / "linux" / "uninstall.sh")], check=False, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert not opt.exists() and not link.exists() and not link.is_symlink()
    assert not (share / "applications" / "gptimg-desktop.desktop").exists()
    assert not list((share / "icons").rglob("gptimg-desktop.png"))
    assert not (share / "metainfo" / METAINFO.name).exists()
    assert (data / "history.db").read_bytes() == b"keep me"


# --- the real build -------------------------------------------------------------------------------------

@pytest.mark.slow
@linux_only
def test_pyinstaller_onedir_build_runs_its_selftest(tmp_path):
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip("PyInstaller is not installed (pip install -e '.[package]')")
    dist, work = tmp_path / "dist", tmp_path / "work"
    env = {k: v for k, v in os.environ.items() if k != "GPTIMG_ONEFILE"}
    build = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(SPEC)],
        cwd=ROOT, env=env, check=False, capture_output=True, text=True, timeout=900,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    app_dir = dist / "gptimg-desktop"
    exe = app_dir / "gptimg-desktop"
    assert exe.is_file() and os.access(exe, os.X_OK)

    # The slimming kept what the app needs and dropped what it doesn't.
    files = {p.relative_to(app_dir).as_posix() for p in app_dir.rglob("*")}
    plugins = "_internal/PySide6/Qt/plugins"
    assert f"{plugins}/platforms/libqxcb.so" in files and f"{plugins}/platforms/libqoffscreen.so" in files
    assert f"{plugins}/imageformats/libqjpeg.so" in files and f"{plugins}/imageformats/libqwebp.so" in files
    assert not [f for f in files if "libqgtk3" in f or "libqwayland" in f or "/translations/" in f or "/tls/" in f]
    assert "_internal/gptimg_desktop/resources/icons/app-256.png" in files
    assert not [p for p in app_dir.rglob("*") if p.is_symlink() and not p.exists()], "dangling symlinks"
    # The OCR runtime and its models ride along (text proofing works offline), and the bundle stays under 400 MB.
    assert [f for f in files if f.endswith("PP-OCRv6_rec_small.onnx")], "the OCR models are missing"
    size_mb = sum(p.stat().st_size for p in app_dir.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20
    assert size_mb < 400, f"the bundle is {size_mb:.0f} MB"

    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AZURE_OPENAI_"))}
    run_env.update(QT_QPA_PLATFORM="offscreen", GPTIMG_HOME=str(tmp_path / "home"),
                   PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    version = subprocess.run([str(exe), "--version"], check=False, env=run_env, capture_output=True, text=True,
                             timeout=120)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"gptimg-desktop {VERSION}"

    selftest = subprocess.run([str(exe), "--selftest"], check=False, env=run_env, capture_output=True, text=True,
                              timeout=300)
    output = selftest.stdout + selftest.stderr
    assert selftest.returncode == 0, output[-4000:]
    assert "selftest:" in output and "OK" in output, output[-4000:]
    assert "OCR read 'PROOF'" in output, output[-4000:]
