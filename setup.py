"""The optional C extension: the recurrences of rnnkit.core.kernels.

Everything else is in pyproject.toml. Where no C compiler exists, or the build fails,
the failure is reported and rnnkit installs without the extension: the recurrences
then run on the NumPy reference. Set RNNKIT_REQUIRE_KERNELS=1 to make a failed build
fail the install (CI does, so that its tests cover both paths).
"""

import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

KERNELS = Extension(
    "rnnkit.core.recurrence_kernels",
    sources=["src/rnnkit/core/csrc/recurrence.c"],
    depends=["src/rnnkit/core/csrc/recurrence_body.h", "src/rnnkit/core/csrc/team.h"],
    # -fno-trapping-math lets gcc turn the clamps of tanh into selects, so the gate
    # loops vectorise; it changes no result. The default target (SSE2) keeps the wheel
    # portable.
    extra_compile_args=["-O3", "-fno-trapping-math", "-fno-math-errno", "-std=c99", "-pthread"],
    extra_link_args=["-pthread"],
    libraries=["m"] if sys.platform != "win32" else [],
)


class OptionalBuildExt(build_ext):
    """build_ext that reports a failed compile instead of failing the install."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # no compiler at all
            self._report(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # the compiler failed
            self._report(exc)

    def _report(self, exc):
        if os.environ.get("RNNKIT_REQUIRE_KERNELS") == "1":
            raise exc
        print(
            f"rnnkit: the compiled recurrences were not built ({exc}); "
            "the NumPy reference will run instead",
            file=sys.stderr,
        )


setup(ext_modules=[KERNELS], cmdclass={"build_ext": OptionalBuildExt})
