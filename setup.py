"""Build hook: compile the normalizer's modules with mypyc, or stay pure Python.

The normalizer runs once per event and is most of the connector's CPU time. mypyc
compiles these (type-checked) modules to C extensions from the same source, about
1.5-2x faster (docs/performance.md). Where compiling is impossible (no C compiler) the
extensions are optional: the build says so and installs the pure-Python modules, which
behave the same. CONNECTOR_PURE_PYTHON=1 skips compiling on purpose.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path

from setuptools import Extension, setup

# The module list lives with the code (connector/normalize/native.py, standard library only).
NATIVE_MODULES = [
    name.replace(".", "/") + ".py" for name in runpy.run_path("connector/normalize/native.py")["MODULES"]
]


def native_extensions() -> list[Extension]:
    if os.environ.get("CONNECTOR_PURE_PYTHON", "0") not in ("", "0"):
        print("CONNECTOR_PURE_PYTHON is set: installing the pure-Python normalizer")
        # An editable install built the extensions next to the sources, where Python
        # would still prefer them: remove them.
        for built in [*Path("connector/normalize").glob("*.so"), *Path().glob("connector_native__mypyc*")]:
            built.unlink()
        return []
    from mypyc.build import mypycify

    # The build environment has only the build requirements: the project's mypy settings
    # (and their pydantic plugin) are for development, not for compiling these modules.
    options = ["--config-file=", "--ignore-missing-imports"]
    extensions = mypycify([*options, *NATIVE_MODULES], opt_level="3", group_name="connector_native")
    for extension in extensions:
        extension.optional = True  # no C compiler: a warning, and the .py modules run instead
    return extensions


setup(ext_modules=native_extensions())
