"""Builds the C kernel test driver (tests/c/test_kernels.c) for one architecture.

Compiles kernels/core/*.c, every other baseline file of kernels/ and the ISA files of the target
architecture, each ISA file with its own flags from kernels/isa_flags.py (and EA_HAVE_<ISA> defined
for every ISA compiled, as setup.py does), then links the driver. Works with the host gcc and with
Debian's cross compilers; link statically to run the result under qemu-user without a sysroot.

    python tests/c/build.py --cc aarch64-linux-gnu-gcc --out build/test_kernels-aarch64
    qemu-aarch64 -cpu cortex-a76 build/test_kernels-aarch64 --expect-isa neondot
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "kernels"))
from isa_flags import COMMON_CFLAGS, ISA_FLAGS, arch_name, isa_of  # noqa: E402

# the target triplet's first word names the architecture: aarch64-linux-gnu-gcc -> aarch64
_CC_ARCH = {"aarch64": "aarch64", "arm": "armv7l", "x86_64": "x86_64"}


def target_arch(cc):
    """Architecture key of ISA_FLAGS that compiler `cc` targets.

    Args:
        cc: compiler command, e.g. ``aarch64-linux-gnu-gcc`` or ``gcc``.
    Returns:
        ``"aarch64"``, ``"armv7l"`` or ``"x86_64"``.
    Raises:
        RuntimeError: when the compiler's target is not one we have ISA tables for.
    """
    out = subprocess.run([cc, "-dumpmachine"], check=True, capture_output=True, text=True).stdout.strip()
    arch = _CC_ARCH.get(out.split("-")[0]) or arch_name(out.split("-")[0])
    if arch not in ISA_FLAGS:
        raise RuntimeError(f"{cc} targets {out!r}: no ISA table for it in kernels/isa_flags.py")
    return arch


def _accepts(cc, flags):
    """True if `cc` compiles an empty file with `flags` (an old gcc may lack an -march extension)."""
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "t.c")
        with open(src, "w") as f:
            f.write("int main(void) { return 0; }\n")
        r = subprocess.run([cc, *flags, "-c", src, "-o", os.path.join(d, "t.o")], capture_output=True)
        return r.returncode == 0


def plan(arch, cc):
    """The compile jobs for `arch`: [(source, flags)], and the ISAs compiled.

    Args:
        arch: key of ISA_FLAGS.
        cc: compiler, probed for each ISA's flags.
    Returns:
        (jobs, isas): jobs is a list of (path, extra flags); isas the ISA names built (incl. "ref").
    """
    table = ISA_FLAGS[arch]
    sources = sorted(glob.glob(os.path.join(ROOT, "kernels", "**", "*.c"), recursive=True))
    has_files = {isa_of(s) for s in sources}
    # like setup.py: an ISA is built when it has files and the compiler takes its flags
    isas = ["ref"] + [i for i in table if i != "ref" and i in has_files and _accepts(cc, COMMON_CFLAGS + table[i])]
    jobs = []
    for src in sources:
        isa = isa_of(src)
        if isa is None:
            jobs.append((src, []))
        elif isa in isas:
            jobs.append((src, table[isa]))
    return jobs, isas


def build(cc, out, static=True, jobs_n=2, extra=()):
    """Compiles the kernels and the driver with `cc` into the executable `out`.

    Args:
        cc: C compiler command.
        out: path of the executable to write.
        static: link statically (for qemu-user without a target sysroot).
        jobs_n: parallel compiler processes.
        extra: extra flags for every compile (e.g. ``-g``).
    Returns:
        The list of ISAs compiled in.
    Raises:
        subprocess.CalledProcessError: with the compiler's message when a file fails to build.
    """
    arch = target_arch(cc)
    jobs, isas = plan(arch, cc)
    macros = ["-DEA_HAVE_" + i.upper() + "=1" for i in isas if i != "ref"]
    objdir = out + ".objs"
    os.makedirs(objdir, exist_ok=True)

    def compile_one(job):
        src, flags = job
        rel = os.path.relpath(src, ROOT).replace(os.sep, "_")
        obj = os.path.join(objdir, rel[:-2] + ".o")
        cmd = [cc, *COMMON_CFLAGS, *flags, *macros, *extra, "-I", os.path.join(ROOT, "kernels"),
               "-c", src, "-o", obj]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("compile failed: " + " ".join(cmd) + "\n" + r.stderr)
        return obj

    driver = [(os.path.join(HERE, "test_kernels.c"), ["-I", HERE]), (os.path.join(HERE, "oracle.c"), ["-I", HERE])]
    with ThreadPoolExecutor(max_workers=jobs_n) as ex:
        objs = list(ex.map(compile_one, jobs + driver))
    link = [cc, *objs, "-o", out + ".tmp", "-lpthread", "-lm"] + (["-static"] if static else [])
    subprocess.run(link, check=True)
    os.replace(out + ".tmp", out)
    return isas


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"), help="C compiler (default: $CC or gcc)")
    ap.add_argument("--out", required=True, help="executable to write")
    ap.add_argument("--dynamic", action="store_true", help="link dynamically (default: static)")
    ap.add_argument("-j", type=int, default=2, help="parallel compiles")
    args = ap.parse_args(argv)
    isas = build(args.cc, args.out, static=not args.dynamic, jobs_n=args.j)
    print(f"built {args.out} ({target_arch(args.cc)}: {', '.join(isas)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
