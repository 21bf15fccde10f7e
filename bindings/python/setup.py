"""Packaging hook: with LM_BUNDLE_LIBRARY set to a built liblm.so, the wheel carries a copy of
it (as liblm/_lib/liblm.so.0) and is tagged for this platform; without it the package is pure
Python and finds an installed liblm at run time (LM_LIBRARY, pkg-config, the loader)."""

import os
import shutil

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

BUNDLE = os.environ.get("LM_BUNDLE_LIBRARY")


class BuildPy(build_py):
    def run(self):
        super().run()
        if BUNDLE:
            dest = os.path.join(self.build_lib, "liblm", "_lib")
            os.makedirs(dest, exist_ok=True)
            shutil.copyfile(os.path.realpath(BUNDLE), os.path.join(dest, "liblm.so.0"))


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return bool(BUNDLE)


setup(cmdclass={"build_py": BuildPy}, distclass=BinaryDistribution)
