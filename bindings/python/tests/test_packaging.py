"""The wheel from build-wheel.sh carries the library; the example script works."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import BINDING_DIR, REPO_ROOT, STUB_TICKET

EXAMPLE = BINDING_DIR / "examples" / "send_password_email.py"


def _clean_env(**updates: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SUPEROFFICE_LIB", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
           and not k.startswith("SO_")}
    env.update(updates)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheelhouse")
    env = dict(os.environ, PYTHON=sys.executable)
    env.setdefault("SUPEROFFICE_LIB", str(REPO_ROOT / "target" / "release" / "libsuperoffice.so"))
    subprocess.run(["bash", str(BINDING_DIR / "build-wheel.sh"), str(out)], check=True, env=env,
                   timeout=600)
    [built] = list(out.glob("superoffice_ffi-*.whl"))
    return built


def test_wheel_is_platform_specific_and_carries_the_library(wheel):
    assert not wheel.name.endswith("-any.whl"), wheel.name
    assert "-py3-none-linux_" in wheel.name, wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "superoffice_ffi/libsuperoffice.so" in names
    assert "superoffice_ffi/py.typed" in names
    assert "superoffice_ffi/_native.py" in names
    assert not any(name.startswith("tests/") for name in names)


def test_wheel_installed_elsewhere_finds_its_bundled_library(wheel, tmp_path, stub, prefix):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index", str(wheel)],
                   check=True, timeout=300, env=_clean_env())
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    script = textwrap.dedent(f"""
        import superoffice_ffi
        from superoffice_ffi import Client
        print(superoffice_ffi.library_source())
        print(superoffice_ffi.library_path())
        with Client({stub.tenant(prefix)!r}, ticket={STUB_TICKET!r}) as so:
            so.send_customer_centre_password_email(670, subject="from the wheel")
        print("sent")
    """)
    result = subprocess.run([str(python), "-c", script], cwd=outside, env=_clean_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    source, path, sent = result.stdout.split()
    assert source == "package"
    assert Path(path).resolve().is_relative_to(venv.resolve())  # type: ignore[attr-defined]
    assert sent == "sent"
    assert stub.count(prefix) == 1


def test_example_sends(stub, prefix):
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env=dict(os.environ, SO_STUB_URL=stub.url, SO_BASE_URL=stub.tenant(prefix),
                 SO_PERSON_ID="670", SO_FROM="support@example.com", SO_TO="kari@example.com",
                 SO_SUBJECT="Your password", SO_LANGUAGE="sv", SO_APP_TOKEN="app-1"),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "sent" in result.stdout and "670" in result.stdout
    assert stub.count(prefix) == 1


def test_example_defaults_to_the_stub(stub):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SO_")}
    env["SO_STUB_URL"] = stub.url
    result = subprocess.run([sys.executable, str(EXAMPLE)], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"{stub.url}/Cust12345" in result.stdout


def test_example_reports_errors_with_exit_1(stub, prefix):
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env=dict(os.environ, SO_STUB_URL=stub.url, SO_BASE_URL=stub.tenant(prefix),
                 SO_PERSON_ID="99999"),
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "NotFoundError" in result.stderr and "404" in result.stderr
