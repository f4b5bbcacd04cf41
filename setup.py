"""Builds edgeai._C: every kernel file of the host architecture, each with its own ISA's flags.

Kernel files are found by globbing kernels/; a file's ISA is its name's suffix
(``dot-q4_0-q8_0-avx2.c``), its flags come from kernels/isa_flags.py, and every other C file is
built for the baseline. Never -march=native: the dispatch picks the variant at run time.
"""
import glob
import os
import platform
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from pybind11.setup_helpers import Pybind11Extension
from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "kernels"))
from isa_flags import COMMON_CFLAGS, ISA_FLAGS, arch_name, isa_of  # noqa: E402


def _compiler_accepts(compiler, flags):
    """True if the C compiler builds a trivial file with these flags (old gcc lacks -mavxvnni)."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "t.c")
        with open(src, "w") as f:
            f.write("int main(void) { return 0; }\n")
        try:
            compiler.compile([src], output_dir=d, extra_postargs=flags)
            return True
        except Exception:
            return False


class BuildExt(build_ext):
    def build_extension(self, ext):
        arch = arch_name(os.environ.get("EDGEAI_ARCH") or platform.machine())
        table = ISA_FLAGS.get(arch, {"ref": []})
        sources = sorted(glob.glob(os.path.join("kernels", "**", "*.c"), recursive=True))
        by_isa = {}
        for src in sources:
            isa = isa_of(src)
            if isa is None:
                by_isa.setdefault("", []).append(src)
            elif isa in table:
                by_isa.setdefault(isa, []).append(src)
        # debug info triples compile time of a few hundred kernel files and is not shipped
        self.compiler.compiler_so = [f for f in self.compiler.compiler_so if f != "-g"]
        compiled = ["ref"]
        for isa in table:
            if isa != "ref" and by_isa.get(isa) and _compiler_accepts(self.compiler, COMMON_CFLAGS + table[isa]):
                compiled.append(isa)
        macros = [("EA_HAVE_" + isa.upper(), "1") for isa in compiled if isa != "ref"]
        jobs = []
        for isa in [""] + compiled:
            flags = COMMON_CFLAGS + table.get(isa, [])
            jobs += [(src, flags) for src in by_isa.get(isa, [])]
        headers = glob.glob("kernels/**/*.h", recursive=True) + glob.glob("kernels/*.inc")

        def compile_one(job):
            src, flags = job
            return self.compiler.compile([src], output_dir=self.build_temp, macros=macros,
                                         include_dirs=["kernels"], extra_postargs=flags, depends=headers)

        # one compiler process per core: there are a few hundred small kernel files
        workers = int(os.environ.get("EDGEAI_BUILD_JOBS") or os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            objects = [o for objs in pool.map(compile_one, jobs) for o in objs]
        ext.extra_objects = list(ext.extra_objects or []) + objects
        # relink when any kernel file changes, not only when a binding file does
        ext.depends = list(ext.depends or []) + sources + glob.glob("kernels/**/*.h", recursive=True) \
            + glob.glob("kernels/*.inc")
        ext.define_macros = list(ext.define_macros or []) + macros
        # the C++ binding files must not see the C-only flags above
        self.compiler.compiler_so = [f for f in self.compiler.compiler_so if f != "-std=c11"]
        super().build_extension(ext)


ext = Pybind11Extension(
    "edgeai._C",
    sorted(glob.glob("bindings/*.cpp")),
    include_dirs=["kernels"],
    depends=sorted(glob.glob("bindings/*.h")),
    cxx_std=17,
    extra_compile_args=["-O2"],
    extra_link_args=["-lpthread", "-lm"],
)

setup(ext_modules=[ext], cmdclass={"build_ext": BuildExt})
