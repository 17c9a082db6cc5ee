"""Build the fdjpeg extension: the C codec in csrc/ plus the thin Cython binding."""
import glob
import os
import sys

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
C_SOURCES = sorted(os.path.relpath(p, HERE) for p in glob.glob(os.path.join(HERE, "csrc", "*.c")))

extra_compile_args = []
extra_link_args = []
if sys.platform != "win32":
    extra_link_args = ["-pthread"]  # fdj_purify_batch's threads (purify.c)
    # -O3 for the kernels; warnings on so the C stays clean.  No -march=native:
    # wheels must run on any x86-64; SIMD is chosen at run time.
    extra_compile_args = ["-O3", "-std=c99", "-Wall", "-Wextra", "-Wno-unused-function", "-pthread"]
    if os.environ.get("FDJPEG_DEBUG"):
        extra_compile_args += ["-O0", "-g", "-fsanitize=address,undefined", "-fno-omit-frame-pointer"]

extensions = [
    Extension(
        "fdjpeg._codec",
        sources=["fdjpeg/_codec.pyx"] + C_SOURCES,
        include_dirs=["csrc", numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=extra_compile_args,
        extra_link_args=extra_link_args,
    )
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    ),
)
