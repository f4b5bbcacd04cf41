#!/usr/bin/env bash
# The emulated arm64 Debian lane (issue 3): build edgeai from its sdist inside an arm64 Debian root,
# with the distribution's python3 and numpy, and run the kernel tests there under qemu-user.
#
#   .ci/arm64-debian.sh [--suite bookworm|bullseye] [--full] [--keep] [--prepare]
#
# --prepare only builds and caches the root, then exits: .ci/run starts it in the background at
# once, so the debootstrap (minutes of emulated dpkg and downloads) overlaps the x86 test suite.
#
# bookworm (Raspberry Pi OS 12): Debian's python3 3.11 and python3-numpy 1.24, nothing from pip but
# the test oracle gguf. bullseye (Raspberry Pi OS 11): Debian's python3 3.9; its numpy (1.19) is
# older than edgeai supports, so numpy 1.24.4 and the build/test tools come as aarch64 wheels
# fetched by the host's pip, as a Pi user on bullseye would pip-install them.
#
# Needs root (debootstrap, chroot, binfmt_misc) and the apt packages qemu-user-static,
# binfmt-support, debootstrap. The root is cached as a tarball in $EDGEAI_CI_CACHE
# (default /var/cache/edgeai-ci), keyed by suite and package list, so reruns skip debootstrap.
# Default: a bounded subset of tests/kernels (EDGEAI_ARM64_PYTEST_ARGS overrides it);
# --full runs all of tests/kernels. Timings under emulation are not speed figures.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)

SUITE=bookworm
FULL=0
KEEP=0
PREPARE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --suite) SUITE=$2; shift 2 ;;
        --full) FULL=1; shift ;;
        --keep) KEEP=1; shift ;;
        --prepare) PREPARE=1; shift ;;
        *) echo "arm64-debian: unknown option $1" >&2; exit 2 ;;
    esac
done

CACHE=${EDGEAI_CI_CACHE:-/var/cache/edgeai-ci}
MIRROR=${EDGEAI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# the distribution's toolchain and python stack; pip only installs the sdist (and gguf, the test oracle)
case "$SUITE" in
    bookworm) PACKAGES=python3,python3-dev,python3-numpy,python3-pip,python3-venv,python3-setuptools,python3-wheel,python3-pybind11,python3-pytest,python3-yaml,python3-tqdm,gcc,g++,ca-certificates ;;
    bullseye) PACKAGES=python3,python3-dev,python3-pip,python3-venv,gcc,g++,ca-certificates ;;
    *) echo "arm64-debian: suite must be bookworm or bullseye" >&2; exit 2 ;;
esac
KEY=$(printf '%s %s %s' "$SUITE" "$PACKAGES" v1 | sha256sum | cut -c1-12)
TARBALL=$CACHE/debian-$SUITE-arm64-$KEY.tar.gz
WORK=$(mktemp -d /tmp/edgeai-arm64.XXXXXX)
ROOT=$WORK/root
t0=$(date +%s)
say() { echo "arm64-debian [$(( $(date +%s) - t0 ))s]: $*"; }

cleanup() {
    for m in "$ROOT/proc" "$ROOT/dev/pts" "$ROOT/dev"; do
        mountpoint -q "$m" 2>/dev/null && umount -l "$m" || true
    done
    if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "arm64-debian: root kept in $ROOT"; fi
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "arm64-debian: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v qemu-aarch64-static >/dev/null || { echo "arm64-debian: qemu-user-static missing" >&2; exit 1; }

# ---- binfmt_misc: let the kernel run arm64 binaries through qemu-aarch64-static ----
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    update-binfmts --enable qemu-aarch64 || true
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { echo "arm64-debian: binfmt qemu-aarch64 not registered" >&2; exit 1; }

# ---- the root: from the cache, or debootstrap (Debian's arm64 packages) ----
mkdir -p "$CACHE" "$ROOT"
if [ "$PREPARE" = 1 ] && [ -f "$TARBALL" ]; then
    say "root already cached in $TARBALL"
    exit 0
fi
if [ -f "$TARBALL" ]; then
    say "root from cache $TARBALL"
    tar -xzf "$TARBALL" -C "$ROOT"
else
    say "debootstrap --arch=arm64 $SUITE (no cached root)"
    debootstrap --arch=arm64 --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOT" "$MIRROR" \
        > "$WORK/debootstrap.log" 2>&1 || { tail -30 "$WORK/debootstrap.log"; exit 1; }
    rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
    say "debootstrap done; caching the root"
    tar -czf "$TARBALL.tmp.$$" -C "$ROOT" . && mv -f "$TARBALL.tmp.$$" "$TARBALL"
fi
if [ "$PREPARE" = 1 ]; then
    say "root cached in $TARBALL"
    exit 0
fi
cp /usr/bin/qemu-aarch64-static "$ROOT/usr/bin/" 2>/dev/null || true
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"

# ---- the sdist, built on the host ----
say "building the sdist on the host"
rm -rf "$WORK/dist"
if (cd /tmp && python3 -c "import build.__main__") 2>/dev/null; then
    python3 -m build --sdist --outdir "$WORK/dist" . > "$WORK/sdist.log" 2>&1
else
    python3 setup.py -q sdist --dist-dir "$WORK/dist" > "$WORK/sdist.log" 2>&1
fi || { tail -30 "$WORK/sdist.log"; exit 1; }
SDIST=$(ls "$WORK"/dist/edgeai-*.tar.gz)
mkdir -p "$ROOT/src"
cp "$SDIST" "$ROOT/src/"
rm -rf "$ROOT/src/tests" "$ROOT/src/wheels"
cp -r tests "$ROOT/src/tests"
# wheels fetched by the host's pip (the root has no PyPI access of its own)
if [ "$SUITE" = bookworm ]; then
    # the test oracle only (pure python; its deps come from Debian)
    python3 -m pip download -q --no-deps --only-binary=:all: -d "$ROOT/src/wheels" gguf 2> "$WORK/pip.log" \
        || { cat "$WORK/pip.log"; exit 1; }
    VENV_OPTS=--system-site-packages
    # --no-deps: gguf >= 0.19 names requests, which it imports only to download (never in our tests);
    # numpy, pyyaml and tqdm come from Debian
    WHEELS="--no-deps /src/wheels/*.whl"
else
    py=$(chroot "$ROOT" /usr/bin/python3 -c 'import sys; print("%d%d" % sys.version_info[:2])')
    python3 -m pip download -q --only-binary=:all: --platform manylinux2014_aarch64 --python-version "$py" \
        --implementation cp -d "$ROOT/src/wheels" pip "numpy==1.24.4" "pybind11>=2.10" setuptools wheel pytest \
        exceptiongroup tomli gguf 2> "$WORK/pip.log" || { cat "$WORK/pip.log"; exit 1; }
    VENV_OPTS=
    # --upgrade: the venv's bundled pip 20 / setuptools 44 predate pyproject metadata (PEP 621)
    WHEELS="--upgrade pip setuptools wheel numpy==1.24.4 pybind11 pytest gguf"
fi

# ---- install it with the distribution's python3 and numpy, then the kernel tests ----
if [ "$FULL" = 1 ]; then
    PYTEST_ARGS=${EDGEAI_ARM64_PYTEST_ARGS:-"tests/kernels"}
else
    # bounded subset for every CI run: the API and variant-vs-ref tests, first failure stops
    PYTEST_ARGS=${EDGEAI_ARM64_PYTEST_ARGS:-"tests/kernels -x"}
fi
cat > "$ROOT/src/run.sh" <<INNER
set -eu
cd /src
python3 -c 'import sys, platform; print("inside:", platform.machine(), "python", sys.version.split()[0])'
rm -rf /venv
python3 -m venv $VENV_OPTS /venv
/venv/bin/pip install -q --no-index --find-links /src/wheels $WHEELS
# no build isolation: the build uses the numpy, pybind11 and setuptools already there
/venv/bin/pip install -q --no-build-isolation --no-deps /src/$(basename "$SDIST")
cd /src
(cd /tmp && /venv/bin/python -c 'import edgeai, numpy; print("edgeai from", edgeai.__file__); i = edgeai.cpu_info(); print("edgeai", edgeai.__version__, "numpy", numpy.__version__, "features", i.get("features"))')
/venv/bin/python -m pytest -q -p no:cacheprovider $PYTEST_ARGS
INNER
say "installing the sdist and running: pytest $PYTEST_ARGS"
chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 EDGEAI_REQUIRE_EMULATION=0 /bin/sh /src/run.sh
say "passed"
