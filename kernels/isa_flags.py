"""Compiler flags of each kernel ISA, keyed by the file-name suffix (``dot-q4_0-q8_0-avx2.c`` -> ``avx2``).

Read by setup.py and by the cross-compiling C test driver (tests/c/build.py): the one place an
ISA's flags live. A file is compiled with the flags of its own suffix only; every other C file
(core/, model code) is compiled for the architecture's baseline, so one build runs on every CPU
of its architecture and the run-time dispatch decides what executes.
"""

# arch -> {isa: gcc flags}. "ref" is the baseline of the arch.
ISA_FLAGS = {
    "x86_64": {
        "ref": [],
        "sse4": ["-mssse3", "-msse4.1"],
        "avx2": ["-mavx", "-mavx2", "-mfma", "-mf16c"],
        "avxvnni": ["-mavx", "-mavx2", "-mfma", "-mf16c", "-mavxvnni"],
        "avx512vnni": ["-mavx", "-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512vl",
                       "-mavx512dq", "-mavx512vnni"],
    },
    "aarch64": {
        "ref": [],
        "neon": ["-march=armv8-a"],
        "neondot": ["-march=armv8.2-a+dotprod+fp16"],
        "neoni8mm": ["-march=armv8.2-a+dotprod+fp16+i8mm"],
    },
    "armv7l": {
        "ref": [],
        "armv7neon": ["-march=armv7-a", "-mfpu=neon-vfpv4", "-mfloat-abi=hard", "-mfp16-format=ieee"],
    },
}

# Flags for every C file: C11, no FMA contraction in the reference (bit-exact with gguf-py's
# quantizers), position independent for the extension module.
COMMON_CFLAGS = ["-std=c11", "-O2", "-fPIC", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wextra",
                 "-Wno-unused-parameter"]

ARCH_ALIASES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64",
                "armv7l": "armv7l", "armv8l": "armv7l", "armv7": "armv7l", "armhf": "armv7l"}


def isa_of(filename):
    """The ISA suffix of a kernel file name, or None for baseline files.

    Args:
        filename: a path such as ``kernels/x86/dot-q4_0-q8_0-avx2.c``.
    Returns:
        ``"avx2"`` for that example; None when the stem has no known ISA suffix.
    """
    import os
    stem = os.path.splitext(os.path.basename(filename))[0]
    suffix = stem.rsplit("-", 1)[-1]
    for table in ISA_FLAGS.values():
        if suffix in table:
            return suffix
    return None


def arch_name(machine):
    """Normalise ``platform.machine()`` to a key of ISA_FLAGS (None if unsupported)."""
    return ARCH_ALIASES.get(machine.lower())
