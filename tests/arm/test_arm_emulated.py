"""ARM kernels under emulation: the C kernel test driver (tests/c/test_kernels.c), cross-compiled
with Debian's gcc-aarch64-linux-gnu / gcc-arm-linux-gnueabihf and run under qemu-user on the CPU
models our users own (Pi 3 / Zero 2: Cortex-A53, Pi 4: A72, Pi 5: A76, phones with i8mm: `max`,
32-bit Raspberry Pi OS: A7 / A15).

Each run checks every variant the emulated CPU supports against the __ref of the same op and
format on tail shapes, and asserts which ISA the dispatch picks on that model. Without the cross
compilers or qemu the tests skip, unless EDGEAI_REQUIRE_EMULATION=1 (CI), where they fail.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "c"))
import build as driver_build  # noqa: E402  (tests/c/build.py)

REQUIRE = os.environ.get("EDGEAI_REQUIRE_EMULATION", "") not in ("", "0")

# (compiler, qemu, cpu model, ISA the dispatch must pick there)
MODELS = [
    ("aarch64-linux-gnu-gcc", "qemu-aarch64", "cortex-a53", "neon"),      # Pi 3, Zero 2: ARMv8.0
    ("aarch64-linux-gnu-gcc", "qemu-aarch64", "cortex-a72", "neon"),      # Pi 4: ARMv8.0, no dotprod
    ("aarch64-linux-gnu-gcc", "qemu-aarch64", "cortex-a76", "neondot"),   # Pi 5: ARMv8.2 + dotprod
    ("aarch64-linux-gnu-gcc", "qemu-aarch64", "max", "neoni8mm"),         # phones with i8mm
    ("arm-linux-gnueabihf-gcc", "qemu-arm", "cortex-a7", "armv7neon"),    # 32-bit Pi OS on a Pi 2/3
    ("arm-linux-gnueabihf-gcc", "qemu-arm", "cortex-a15", "armv7neon"),
]
# ISAs each model's CPU has (the ones the run must check, not skip)
SUPPORTED = {
    "cortex-a53": {"neon"}, "cortex-a72": {"neon"}, "cortex-a76": {"neon", "neondot"},
    "max": {"neon", "neondot", "neoni8mm"}, "cortex-a7": {"armv7neon"}, "cortex-a15": {"armv7neon"},
}
ARM_ISAS = {"neon", "neondot", "neoni8mm", "armv7neon"}
# HWCAP bits each model's qemu reports, as the driver's "cpu:" line names them (the dispatch reads
# getauxval; a wrong bit here would let it pick an instruction the CPU lacks)
FEATURES = {
    "cortex-a53": {"asimd"}, "cortex-a72": {"asimd"}, "cortex-a76": {"asimd", "asimddp", "asimdhp"},
    "max": {"asimd", "asimddp", "asimdhp", "i8mm"}, "cortex-a7": {"asimd", "vfpv4"},
    "cortex-a15": {"asimd", "vfpv4"},
}


def _missing(*tools):
    """Tools of `tools` not on PATH: skip the test, or fail it when CI requires emulation."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = f"needs {', '.join(missing)} (apt: gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user)"
        if REQUIRE:
            pytest.fail(msg + "; EDGEAI_REQUIRE_EMULATION=1 forbids skipping")
        pytest.skip(msg)


@pytest.fixture(scope="module")
def drivers(tmp_path_factory):
    """Builds the driver once per cross compiler; returns {compiler: (path, isas built)}."""
    out = tmp_path_factory.mktemp("drivers")
    built = {}

    def get(cc):
        if cc not in built:
            exe = str(out / ("test_kernels-" + cc))
            built[cc] = (exe, driver_build.build(cc, exe, static=True))
        return built[cc]

    return get


def _variants(exe_cmd):
    """Names of all registered variants, from the driver's --list."""
    r = subprocess.run(exe_cmd + ["--list"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return [line for line in r.stdout.splitlines() if line.startswith("ea_")]


@pytest.mark.parametrize("cc,qemu,cpu,isa", MODELS, ids=[m[2] for m in MODELS])
def test_variants_and_dispatch_under_qemu(drivers, cc, qemu, cpu, isa):
    _missing(cc, qemu)
    exe, isas = drivers(cc)
    assert isa in isas, f"{cc} did not build the {isa} kernels (built: {isas})"
    cmd = [qemu, "-cpu", cpu, exe]
    r = subprocess.run(cmd + ["--expect-isa", isa], capture_output=True, text=True, timeout=600)
    out = r.stdout
    fails = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert r.returncode == 0 and not fails, f"{cpu}: exit {r.returncode}\n" + "\n".join(fails[:40]) + r.stderr

    # every variant of an ISA this CPU has was checked; every other ARM variant was skipped
    names = _variants(cmd)
    checked = set(re.findall(r"^ok +(ea_\S+) \(vs (?:ref|oracle)\)$", out, re.M))
    skipped = set(re.findall(r"^skip (ea_\S+) ", out, re.M))
    for name in names:
        v_isa = name.rsplit("__", 1)[1]
        if v_isa == "ref":
            continue
        if v_isa in SUPPORTED[cpu]:
            assert name in checked, f"{cpu}: {name} was not checked"
        else:
            assert name in skipped, f"{cpu}: {name} ran although the CPU lacks {v_isa}"
    assert any(n.endswith("__" + isa) for n in checked), f"{cpu}: no {isa} variant checked"

    # the feature bits the dispatch read are exactly the model's
    feats = re.search(r"^cpu:(.*)$", out, re.M)
    assert feats and set(feats.group(1).split()) == FEATURES[cpu], f"{cpu}: {feats and feats.group(0)}"

    # the dispatch names the expected ISA for the LLM's hot path
    assert f"ok expect-isa {isa}" in out
    disp = {(op, fmt): v for op, fmt, v in re.findall(r"^dispatch (\S+) +(\S+) +-> (\S+)$", out, re.M)}
    q4 = disp.get(("dot", "q4_0"))
    want = {"neoni8mm": "neondot"}.get(isa, isa)  # i8mm brings gemm tiles; the dot stays sdot
    assert q4 == f"ea_dot_q4_0_q8_0__{want}", f"{cpu}: dot q4_0 dispatched to {q4}"
    # fp16 weights: the FP16-arithmetic tile (ea_gemm_f16_f32__neondot, gated on asimdhp inside)
    # wherever the CPU has it; elsewhere no gemm, the widening f32 dot
    f16 = disp.get(("gemm", "f16"))
    if "asimdhp" in FEATURES[cpu]:
        assert f16 == "ea_gemm_f16_f32__neondot", f"{cpu}: gemm f16 dispatched to {f16}"
    else:
        assert f16 in (None, "(none)"), f"{cpu}: gemm f16 dispatched to {f16}"
    # every quantized weight format has a gemm tile on AArch64 (x86 has them for all but q2_K, q3_K)
    if isa in ("neon", "neondot", "neoni8mm"):
        for fmt in ("q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K"):
            g = disp.get(("gemm", fmt), "")
            assert g.rsplit("__", 1)[-1] in ("neon", "neondot", "neoni8mm"), f"{cpu}: gemm {fmt} -> {g}"


def test_driver_catches_a_wrong_kernel(tmp_path):
    """The driver is not vacuous: a variant with a deliberate error fails the run."""
    cc = "aarch64-linux-gnu-gcc"
    _missing(cc, "qemu-aarch64")
    # a copy of the tree with one ARM variant, the q8_0 neon dot, made to drop the last block when
    # k > 64 (the other ISA files and registry lines are left out so the copy builds in seconds)
    tree = tmp_path / "tree"
    shutil.copytree(os.path.join(ROOT, "kernels"), tree / "kernels")
    shutil.copytree(os.path.join(ROOT, "tests", "c"), tree / "tests" / "c")
    keep = "dot-q8_0-q8_0-neon.c"
    for sub in ("arm", "x86"):
        for f in (tree / "kernels" / sub).glob("*.c") if (tree / "kernels" / sub).is_dir() else []:
            if f.name != keep:
                f.unlink()
    inc = tree / "kernels" / "variants.inc"
    lines = inc.read_text().splitlines()
    lines = [ln for ln in lines if not re.match(r"EA_\w+\((?!ref,)", ln)]
    inc.write_text("\n".join(lines + ["EA_DOT(neon, q8_0, q8_0)", ""]))
    body = tree / "kernels" / "arm" / "dot-q8_0-q8_0.h"
    text = body.read_text()
    assert "const int64_t nb = k / QK8_0;" in text
    body.write_text(text.replace("const int64_t nb = k / QK8_0;", "const int64_t nb = k / QK8_0 - (k > 64);"))
    exe = str(tmp_path / "broken")
    subprocess.run([sys.executable, str(tree / "tests" / "c" / "build.py"), "--cc", cc, "--out", exe],
                   check=True, capture_output=True)
    r = subprocess.run(["qemu-aarch64", "-cpu", "cortex-a53", exe], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert "FAIL ea_dot_q8_0_q8_0__neon: k=" in r.stdout
    # the same build without the error passes: the failure is the planted one
    body.write_text(text)
    subprocess.run([sys.executable, str(tree / "tests" / "c" / "build.py"), "--cc", cc, "--out", exe],
                   check=True, capture_output=True)
    r = subprocess.run(["qemu-aarch64", "-cpu", "cortex-a53", exe], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:]
    assert "ok   ea_dot_q8_0_q8_0__neon" in r.stdout


# FP16 arithmetic on h registers / .4h / .8h lanes: ARMv8.2 FEAT_FP16 (HWCAP asimdhp). The fp16
# <-> f32 conversions (FCVT, FCVTL, FCVTN) are ARMv8.0 and do not count.
_FP16_OP = re.compile(r"^\s*[0-9a-f]+:\s+[0-9a-f]{8}\s+(f(?!cvt)[a-z0-9]*)\s+(.*)$")
_H_OPERAND = re.compile(r"\bv\d+\.[48]h\b|(?<![\w.])h\d+\b")
# objects allowed to hold FP16 arithmetic, each because it tests HWCAP asimdhp before running it
FP16_GATED = {"kernels_arm_gemm-f16-f32-neondot.o"}


def test_fp16_arithmetic_only_behind_its_hwcap(drivers):
    """neondot / neoni8mm files are compiled with +fp16 (for the f16 tile), but those ISAs are
    selected on dotprod / i8mm alone: no other file of theirs may contain an FP16-arithmetic
    instruction, or a CPU with dotprod and no fp16 arithmetic would fault."""
    cc = "aarch64-linux-gnu-gcc"
    _missing(cc, "aarch64-linux-gnu-objdump")
    exe, isas = drivers(cc)
    objs = sorted(f for f in os.listdir(exe + ".objs") if f.endswith(".o"))
    arm = [f for f in objs if f.startswith("kernels_arm_")]
    assert len(arm) > 50, objs[:10]
    found = {}
    for name in arm:
        dis = subprocess.run(["aarch64-linux-gnu-objdump", "-d", os.path.join(exe + ".objs", name)],
                             capture_output=True, text=True, check=True).stdout
        hits = [m.group(1) + " " + m.group(2) for m in map(_FP16_OP.match, dis.splitlines())
                if m and _H_OPERAND.search(m.group(2))]
        if hits:
            found[name] = hits
    assert set(found) <= FP16_GATED, {k: v[:3] for k, v in found.items() if k not in FP16_GATED}
    # the gated file does use it (FMLA .8h), so the check above is not vacuous
    assert any(h.startswith("fmla") and ".8h" in h for h in found.get("kernels_arm_gemm-f16-f32-neondot.o", []))
