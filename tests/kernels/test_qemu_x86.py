"""Old-x86 lanes: the kernel tests again under qemu-user emulating older CPUs.

``qemu-x86_64 -cpu Nehalem`` (2008: SSE4.2, no AVX) must dispatch the sse4 kernels and
``-cpu Haswell`` (AVX2+FMA+F16C, no AVX-512) the avx2 ones. The same Python and build run under
the emulator, so any AVX / AVX-512 instruction executed on the Nehalem lane (or AVX-512 on
Haswell) raises SIGILL and fails the lane: this proves dispatch never runs what the CPU lacks,
including in code that is compiled for the baseline. The lanes run the variant tests with the
lean shape set (EDGEAI_TEST_QUICK=1), which still covers every variant the emulated CPU supports.

The C kernel test driver (tests/c/test_kernels.c, also used by the ARM lanes) runs on the same
emulated CPUs with its full shape set and its read-past-the-end guard pages.

qemu's TCG cannot emulate AVX-512 or AVX-VNNI (no release here executes vpdpbusd), so the avxvnni
and avx512vnni variants are tested natively on a host that has them (Sapphire Rapids has both;
Alder / Raptor Lake only AVX-VNNI): test_variants.py runs every variant the CPU supports, and
test_c_driver_native_cap below runs the C driver natively with the dispatch capped at each of
them (``--cap NAME --expect-isa NAME``), so a host with AVX-512 proves the avxvnni dispatch too.

Skips when qemu-x86_64 is absent, unless EDGEAI_REQUIRE_EMULATION=1 (CI), where that fails.
"""
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import edgeai

ROOT = Path(__file__).resolve().parents[2]

LANES = [("Nehalem", "sse4"), ("Haswell", "avx2")]
# the C driver also runs on qemu64 (SSE2/SSE3 only, the x86-64 baseline): every op must fall back to
# the portable reference there. numpy's own baseline may exceed that CPU, so only the C driver runs it.
C_LANES = LANES + [("qemu64", "ref")]
PKG_PARENT = Path(edgeai.__file__).resolve().parent.parent
REQUIRE = os.environ.get("EDGEAI_REQUIRE_EMULATION") == "1"

pytestmark = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                                reason="the old-x86 lanes emulate x86-64 CPUs on an x86-64 host")


def _qemu():
    q = shutil.which("qemu-x86_64") or shutil.which("qemu-x86_64-static")
    if q is None:
        if REQUIRE:
            pytest.fail("EDGEAI_REQUIRE_EMULATION=1 but qemu-x86_64 is not installed (apt-get install qemu-user)")
        pytest.skip("qemu-x86_64 not installed (apt-get install qemu-user)")
    return q


def _env():
    env = dict(os.environ)
    # OpenBLAS (under numpy) picks its kernels from OPENBLAS_CORETYPE when set; the host's value
    # names a CPU newer than the emulated one and numpy crashes there. Let it detect the CPU.
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env.pop("EDGEAI_ISA", None)  # the lane is about what the emulated CPU dispatches
    env["EDGEAI_TEST_QUICK"] = "1"
    # the edgeai this process imported (an editable checkout or an installed wheel), never a
    # source tree without the built extension
    env["PYTHONPATH"] = os.pathsep.join([str(PKG_PARENT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


_PROBE = """
import json, edgeai
i = edgeai.cpu_info()
print(json.dumps({"best_isa": i["best_isa"], "features": i["features"], "isas": i["isas"], "kernels": i["kernels"]}))
"""


@pytest.mark.parametrize("cpu,isa", LANES, ids=[c for c, _ in LANES])
def test_emulated_cpu_dispatches_expected_isa(cpu, isa, tmp_path):
    out = subprocess.run([_qemu(), "-cpu", cpu, sys.executable, "-c", _PROBE], env=_env(), cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["best_isa"] == isa, info["features"]
    rank = {i["name"]: i["rank"] for i in info["isas"]}
    supported = {i["name"] for i in info["isas"] if i["supported"]}
    assert all(rank[s] <= rank[isa] for s in supported), supported
    # every dispatched kernel is of the lane's ISA or below, and the block formats this ISA
    # implements run its kernels
    for fmt, ops in info["kernels"].items():
        for op, name in ops.items():
            if name is not None:
                assert rank[name.rsplit("__", 1)[1]] <= rank[isa], (fmt, op, name)
    for fmt in ("q4_0", "q4_1", "q8_0"):
        assert info["kernels"][fmt]["gemm"].endswith(f"__{isa}"), info["kernels"][fmt]
        assert info["kernels"][fmt]["dot"].endswith(f"__{isa}"), info["kernels"][fmt]
        assert info["kernels"][fmt]["activation_quantize"].endswith(f"__{isa}"), info["kernels"][fmt]


@pytest.mark.parametrize("cpu,isa", LANES, ids=[c for c, _ in LANES])
def test_kernel_tests_pass_on_emulated_cpu(cpu, isa, tmp_path):
    tests = [str(ROOT / "tests" / "kernels" / f) for f in ("test_variants.py", "test_api.py")]
    cmd = [_qemu(), "-cpu", cpu, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    # run from outside the checkout: `python -m pytest` puts the cwd first on sys.path
    out = subprocess.run(cmd, env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, (out.stdout[-4000:], out.stderr[-2000:])
    assert " passed" in out.stdout and "error" not in out.stdout.splitlines()[-1].lower(), out.stdout[-1000:]


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """The C kernel test driver built once with the host gcc (static, every x86 ISA)."""
    if shutil.which("gcc") is None:
        if REQUIRE:
            pytest.fail("EDGEAI_REQUIRE_EMULATION=1 but gcc is not installed")
        pytest.skip("gcc not installed")
    # imported here, not at module level: the driver's build script needs the checkout's kernels/,
    # which an installed-package test run (e.g. the arm64 Debian lane) does not have
    sys.path.insert(0, str(ROOT / "tests" / "c"))
    import build as driver_build  # tests/c/build.py
    exe = str(tmp_path_factory.mktemp("driver") / "test_kernels-x86_64")
    isas = driver_build.build("gcc", exe, static=True)
    return exe, isas


@pytest.mark.parametrize("cpu,isa", C_LANES, ids=[c for c, _ in C_LANES])
def test_c_driver_on_emulated_cpu(driver, cpu, isa):
    exe, isas = driver
    assert isa in isas, f"the build did not compile the {isa} kernels (built: {isas})"
    out = subprocess.run([_qemu(), "-cpu", cpu, exe, "--expect-isa", isa], capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, (out.stdout[-4000:], out.stderr[-2000:])
    assert f"ok expect-isa {isa}" in out.stdout and " 0 failures" in out.stdout, out.stdout[-2000:]


def _native_vnni_isas():
    return [i["name"] for i in edgeai.cpu_info()["isas"]
            if i["name"] in ("avxvnni", "avx512vnni") and i["compiled"] and i["supported"]]


@pytest.mark.parametrize("isa", ["avxvnni", "avx512vnni"])
def test_c_driver_native_cap(driver, isa):
    """The ISAs no qemu emulates: the C driver on this CPU, dispatch capped at `isa`."""
    exe, isas = driver
    if isa not in _native_vnni_isas():
        pytest.skip(f"this CPU (or build) does not run {isa}")
    assert isa in isas, f"the driver build did not compile the {isa} kernels (built: {isas})"
    out = subprocess.run([exe, "--cap", isa, "--expect-isa", isa], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, (out.stdout[-4000:], out.stderr[-2000:])
    assert f"ok expect-isa {isa}" in out.stdout and " 0 failures" in out.stdout, out.stdout[-2000:]
    assert f"ok   ea_gemm_q8_0_q8_0__{isa}" in out.stdout, out.stdout[-2000:]
