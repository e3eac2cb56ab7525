# Sourced by run-tests.sh and run-demo.sh.
# ensure_venv DIR: make DIR/.venv if it is missing (pytest and build tools from
# PyPI), then install the package from DIR into it, non-editable, offline.
ensure_venv() {
    local here="$1"
    local venv="$here/.venv"
    if [ ! -f "$venv/.ready" ]; then
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet pytest "setuptools>=68" wheel
        touch "$venv/.ready"
    fi
    # mypy for tests/test_typing.py (a venv made before it was added gets it here).
    if [ ! -x "$venv/bin/mypy" ]; then
        "$venv/bin/python" -m pip install --quiet mypy
    fi
    # Reinstall every time so the venv never runs stale sources.
    "$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation \
        --force-reinstall "$here"
}
