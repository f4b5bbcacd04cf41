"""The AVX-512 panel GEMMs' software prefetch is in the build (a compiler once deleted it silently)."""
import platform
import shutil
import subprocess

import pytest

import edgeai


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="an x86-64 build check")
@pytest.mark.parametrize("symbol", ["ea_gemm_q4_0_q8_0__avx512vnni", "ea_gemm_q4_K_q8_K__avx512vnni"])
def test_panel_gemm_prefetches_the_next_panels(symbol):
    if shutil.which("objdump") is None:
        pytest.skip("objdump (binutils) is not installed")
    so = edgeai._C.__file__
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--disassemble={symbol}", so],
                         capture_output=True, text=True, check=True).stdout
    if f"<{symbol}>:" not in out:
        pytest.skip(f"{symbol} is not in this build")
    # ea512_prefetch_next: prefetcht1 of the next panel pair's weight rows (gcc 12 once deleted the
    # _mm_prefetch loop as dead code, and the prompt GEMMs ran 8-10% slower from memory)
    assert "prefetcht1" in out
