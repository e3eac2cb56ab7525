"""Only here to mark a wheel that carries libsuperoffice as platform-specific.

All metadata is in pyproject.toml. When src/superoffice_ffi/ holds a copy of
the shared library (build-wheel.sh puts one there), the wheel is tagged
``py3-none-<platform>``: any Python 3, no Python ABI (ctypes), this platform,
or the one ``SUPEROFFICE_WHEEL_PLATFORM`` names for a library built for another
(e.g. ``manylinux_2_17_x86_64.manylinux2014_x86_64`` or ``win_amd64``).
Without the library the package is pure Python (``py3-none-any``).
"""

import os
from pathlib import Path

from setuptools import Distribution, setup

try:
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel

_PACKAGE = Path(__file__).resolve().parent / "src" / "superoffice_ffi"
_LIBRARIES = ("libsuperoffice.so", "libsuperoffice.dylib", "superoffice.dll")


def _bundles_library() -> bool:
    return any((_PACKAGE / name).is_file() for name in _LIBRARIES)


class BinaryDistribution(Distribution):
    """Native code inside: install into platlib, build a non-pure wheel."""

    def has_ext_modules(self):
        return _bundles_library()


class bdist_wheel(_bdist_wheel):
    def get_tag(self):
        python, abi, plat = super().get_tag()
        if _bundles_library():
            return "py3", "none", os.environ.get("SUPEROFFICE_WHEEL_PLATFORM") or plat
        return python, abi, plat


setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": bdist_wheel})
