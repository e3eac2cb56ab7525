"""Loading the library: declarations against the header and the exported
symbols, the version check, and where the library is looked for."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import sys
import textwrap
from ctypes import POINTER, c_char_p, c_int, c_int32, c_size_t, c_uint32, c_void_p
from pathlib import Path

import pytest

import superoffice_ffi
from conftest import REPO_ROOT
from superoffice_ffi import _native

HEADER = REPO_ROOT / "include" / "superoffice.h"
BUILT_LIBRARY = REPO_ROOT / "target" / "release" / "libsuperoffice.so"

C_TYPES = {
    "void": None,
    "const char *": c_char_p,
    "char *": c_void_p,  # output buffers: written by the callee
    "void *": c_void_p,
    "int": c_int,
    "int32_t": c_int32,
    "uint32_t": c_uint32,
    "size_t": c_size_t,
    "size_t *": POINTER(c_size_t),
    "so_result": _native.so_result,
    "so_options *": _native.so_options_p,
    "const so_options *": _native.so_options_p,
    "so_client *": _native.so_client_p,
    "const so_client *": _native.so_client_p,
    "const so_batch_item *": POINTER(_native.so_batch_item),
    "so_batch_result *": POINTER(_native.so_batch_result),
    "so_credentials_callback": _native.so_credentials_callback,
    "so_log_callback": _native.so_log_callback,
    "so_progress_callback": _native.so_progress_callback,
    # Operations travel as plain addresses (see aio.py).
    "so_operation *": c_void_p,
    "const so_operation *": c_void_p,
    "so_operation **": POINTER(c_void_p),
    "so_completion_callback": _native.so_completion_callback,
    "so_completion_queue *": _native.so_completion_queue_p,
    "const so_completion_queue *": _native.so_completion_queue_p,
    "so_result *": POINTER(_native.so_result),
    "so_delivery": _native.so_delivery,
    "int32_t *": POINTER(c_int32),
}


def _header_text() -> str:
    assert HEADER.is_file(), f"{HEADER} is missing: build the library first"
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _normalise(c_type: str) -> str:
    """``"const so_client*"`` -> ``"const so_client *"``."""
    tokens = [t for t in c_type.replace("*", " * ").split() if t != "struct"]
    return " ".join(tokens).replace("* *", "**")


def _param_type(param: str) -> str:
    """The type of a C parameter declaration (its name dropped)."""
    tokens = param.replace("*", " * ").split()
    if tokens != ["void"] and tokens[-1] != "*":
        tokens = tokens[:-1]
    return _normalise(" ".join(tokens))


def header_functions():
    found = {}
    pattern = re.compile(r"([\w\s\*]+?)\b(so_\w+)\s*\(([^()]*)\)\s*;")
    for ret, name, params in pattern.findall(_header_text()):
        ret_type = _normalise(ret.strip())
        if ret_type.startswith("typedef"):
            continue
        param_types = [] if params.strip() in ("", "void") else [
            _normalise(_param_type(p)) for p in params.split(",")]
        found[name] = (ret_type, param_types)
    return found


def header_callbacks():
    pattern = re.compile(r"typedef\s+([\w\s\*]+?)\s*\(\s*\*\s*(so_\w+)\s*\)\s*\(([^()]*)\)\s*;")
    return {
        name: (_normalise(ret), [_normalise(_param_type(p)) for p in params.split(",")])
        for ret, name, params in pattern.findall(_header_text())
    }


def test_version():
    assert superoffice_ffi.version() == _native.LIBRARY_VERSION
    assert _native.is_compatible_version(superoffice_ffi.version())
    assert superoffice_ffi.REQUIRED_LIBRARY_VERSION == "0.1.0"
    assert superoffice_ffi.__version__ == "0.1.0"
    header_version = re.search(r'#define SO_VERSION "([^"]+)"', HEADER.read_text()).group(1)
    assert superoffice_ffi.version() == header_version


def test_every_header_function_is_declared_with_matching_types():
    declared = {name: (restype, argtypes) for name, restype, argtypes, _ in _native.FUNCTIONS}
    in_header = header_functions()
    assert in_header, "no functions found in the header"
    assert sorted(declared) == sorted(in_header)
    for name, (ret, params) in in_header.items():
        restype, argtypes = declared[name]
        assert ret in C_TYPES, f"{name}: unknown return type {ret!r}"
        assert restype is C_TYPES[ret], f"{name}: restype {restype} but header says {ret!r}"
        assert len(argtypes) == len(params), f"{name}: {len(argtypes)} argtypes, header has {params}"
        for i, (have, want) in enumerate(zip(argtypes, params)):
            assert want in C_TYPES, f"{name}: unknown parameter type {want!r}"
            assert have is C_TYPES[want], f"{name} argument {i}: {have} but header says {want!r}"
        func = getattr(_native.lib, name)
        assert func.restype is restype and list(func.argtypes) == list(argtypes)


def test_callback_types_match_header():
    callbacks = header_callbacks()
    assert sorted(callbacks) == ["so_completion_callback", "so_credentials_callback", "so_log_callback",
                                 "so_progress_callback"]
    for name, (ret, params) in callbacks.items():
        ours = getattr(_native, name)
        assert ours._restype_ is C_TYPES[ret], name
        assert list(ours._argtypes_) == [C_TYPES[p] for p in params], name


def test_constants_match_header():
    text = HEADER.read_text()
    for name in ("SO_LOG_ERROR", "SO_LOG_WARN", "SO_LOG_INFO", "SO_LOG_DEBUG"):
        value = int(re.search(rf"#define {name} (\d+)", text).group(1))
        assert getattr(_native, name) == value
        assert getattr(superoffice_ffi, name[3:]) == value
    for member in superoffice_ffi.ResultCode:
        c_name = "SO_OK" if member.name == "OK" else f"SO_ERR_{member.name}"
        assert re.search(rf"\b{c_name} = {int(member)},", text), c_name
    assert len(re.findall(r"\bSO_(?:OK|ERR_\w+) = \d+,", text)) == len(superoffice_ffi.ResultCode)


def test_every_exported_symbol_is_declared():
    nm = shutil.which("nm")
    assert nm, "nm (binutils) is needed to list the library's symbols"
    out = subprocess.run([nm, "-D", "--defined-only", _native.LIBRARY_PATH],
                         check=True, capture_output=True, text=True).stdout
    exported = sorted({line.split()[-1] for line in out.splitlines()
                       if line.split() and line.split()[-1].startswith("so_")})
    assert exported == sorted(name for name, *_ in _native.FUNCTIONS)


def test_struct_layout_matches_c(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed to check the struct layout"
    source = tmp_path / "layout.c"
    source.write_text(textwrap.dedent("""
        #include <stdio.h>
        #include <stddef.h>
        #include "superoffice.h"
        int main(void) {
            printf("%zu %zu %zu %zu %zu\\n", sizeof(so_batch_item),
                   offsetof(so_batch_item, person_id), offsetof(so_batch_item, from),
                   offsetof(so_batch_item, to), offsetof(so_batch_item, subject));
            printf("%zu %zu %zu %zu %zu\\n", sizeof(so_batch_result),
                   offsetof(so_batch_result, code), offsetof(so_batch_result, http_status),
                   offsetof(so_batch_result, message), offsetof(so_batch_result, error_type));
            return 0;
        }
    """))
    exe = tmp_path / "layout"
    subprocess.run([cc, "-I", str(HEADER.parent), "-o", str(exe), str(source)], check=True)
    item_line, result_line = subprocess.run([str(exe)], check=True, capture_output=True,
                                            text=True).stdout.split("\n")[:2]
    item, result = _native.so_batch_item, _native.so_batch_result
    assert item_line.split() == [str(v) for v in (
        ctypes.sizeof(item), item.person_id.offset, item.from_.offset, item.to.offset,
        item.subject.offset)]
    assert result_line.split() == [str(v) for v in (
        ctypes.sizeof(result), result.code.offset, result.http_status.offset,
        result.message.offset, result.error_type.offset)]


@pytest.mark.parametrize(
    "found, ok",
    [("0.1.0", True), ("0.1.7", True), ("0.1.0-dev", True), ("0.2.0", False), ("1.1.0", False),
     ("0.0.9", False), ("", False), ("garbage", False), ("0.1", False)],
)
def test_version_compatibility_rule(found, ok):
    assert _native.is_compatible_version(found, "0.1.0") is ok


def _run_python(code: str, *, env_updates=None, unset=(), cwd=None):
    env = dict(os.environ)
    for name in unset:
        env.pop(name, None)
    env.update(env_updates or {})
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


# Importing never loads the library; creating a client does.
CREATE_CLIENT = ("import superoffice_ffi\n"
                 "superoffice_ffi.Client('http://127.0.0.1:1/Cust1', ticket='7T:dGVzdA==')")


def test_import_works_without_a_library(tmp_path):
    missing = tmp_path / "nope" / "libsuperoffice.so"
    result = _run_python(
        "import superoffice_ffi as s\n"
        "print(s.__version__, s.REQUIRED_LIBRARY_VERSION, int(s.ResultCode.NOT_FOUND))\n"
        "print(s.Client.__doc__ is not None, issubclass(s.NotFoundError, s.SuperOfficeError))",
        env_updates={"SUPEROFFICE_LIB": str(missing)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0.1.0", "0.1.0", "24", "True", "True"]


def test_superoffice_lib_naming_a_missing_file_is_a_clear_error_when_a_client_is_created(tmp_path):
    missing = tmp_path / "nope" / "libsuperoffice.so"
    result = _run_python(CREATE_CLIENT, env_updates={"SUPEROFFICE_LIB": str(missing)})
    assert result.returncode != 0
    assert "LibraryLoadError" in result.stderr
    assert str(missing) in result.stderr and "SUPEROFFICE_LIB" in result.stderr


def test_library_of_another_version_is_refused(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "a C compiler is needed to build a fake library"
    source = tmp_path / "fake.c"
    source.write_text('const char *so_version(void) { return "9.9.9"; }\n')
    fake = tmp_path / "libsuperoffice.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(fake), str(source)], check=True)
    result = _run_python(CREATE_CLIENT, env_updates={"SUPEROFFICE_LIB": str(fake)})
    assert result.returncode != 0
    assert "LibraryVersionError" in result.stderr
    assert "9.9.9" in result.stderr and "0.1.0" in result.stderr


def test_a_file_that_is_not_a_library_is_refused(tmp_path):
    fake = tmp_path / "libsuperoffice.so"
    fake.write_text("not a shared object")
    result = _run_python(CREATE_CLIENT, env_updates={"SUPEROFFICE_LIB": str(fake)})
    assert result.returncode != 0
    assert "LibraryLoadError" in result.stderr and "cannot load" in result.stderr


def test_superoffice_lib_comes_first():
    result = _run_python(
        "import superoffice_ffi as s; print(s.library_source()); print(s.library_path())",
        env_updates={"SUPEROFFICE_LIB": str(BUILT_LIBRARY)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["SUPEROFFICE_LIB", str(BUILT_LIBRARY)]


def test_repository_build_is_found_from_the_source_tree(tmp_path):
    # Running the package from the repository (as an editable install does),
    # with SUPEROFFICE_LIB unset: target/release of the repository is used.
    result = _run_python(
        "import superoffice_ffi as s; print(s.__file__); print(s.library_source()); "
        "print(s.library_path())",
        env_updates={"PYTHONPATH": str(REPO_ROOT / "bindings" / "python" / "src")},
        unset=("SUPEROFFICE_LIB",),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    module_file, source, path = result.stdout.split()
    assert module_file.startswith(str(REPO_ROOT) + os.sep)
    assert source == "repository"
    assert Path(path) == BUILT_LIBRARY


def test_installed_package_without_library_says_where_it_looked(tmp_path):
    # run-tests.sh installs the package non-editable: no bundled copy, not in
    # the repository. With SUPEROFFICE_LIB unset only the system is left.
    if ctypes.util.find_library("superoffice"):
        pytest.fail("a system-wide libsuperoffice is installed; this test needs none")
    result = _run_python(CREATE_CLIENT, unset=("SUPEROFFICE_LIB",), cwd=tmp_path)
    if _native._repository_root() is not None:  # run from the source tree instead
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode != 0
    assert "LibraryLoadError" in result.stderr
    assert "cannot find libsuperoffice.so" in result.stderr and "SUPEROFFICE_LIB" in result.stderr
