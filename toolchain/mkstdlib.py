"""Build the pruned, precompiled stdlib zip (python313.zip) for python.wasm.

Run it with the native build python of the *same* CPython version (the .pyc
magic number must match) and PYTHONHASHSEED=0:

  build/python mkstdlib.py LIBDIR SYSCONFIGDATA OUT.zip [--strip-prefix DIR=REPL ...]

Contents: unchecked-hash .pyc files only (zipimport never compares mtimes),
deflate-compressed, entries sorted by name with fixed dates and attributes,
so the bytes depend only on the inputs. --strip-prefix rewrites build-machine
paths inside the sysconfigdata module (it records the configure environment).
"""
import argparse
import importlib.util
import os
import zipfile
from importlib import _bootstrap_external as _bse

# Never useful in the sandbox (no GUI, no sqlite/ctypes/curses/dbm backends,
# no pip, no REPL), or tests.
EXCLUDE_DIRS = {
    "test", "tests", "idle_test", "idlelib", "tkinter", "turtledemo", "ensurepip",
    "lib2to3", "pydoc_data", "__pycache__", "site-packages", "venv", "ctypes",
    "sqlite3", "curses", "dbm", "msilib", "__phello__", "_pyrepl",
}
EXCLUDE_FILES = {"turtle.py", "antigravity.py", "this.py", "__hello__.py", "_pydecimal.py"}
DATE = (1980, 1, 1, 0, 0, 0)


def collect(libdir):
    out = []
    for root, dirs, files in os.walk(libdir):
        dirs[:] = [d for d in dirs if d not in EXCLUDE_DIRS]
        for f in files:
            if f.endswith(".py") and f not in EXCLUDE_FILES:
                path = os.path.join(root, f)
                out.append((os.path.relpath(path, libdir).replace(os.sep, "/"), path))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("libdir")
    ap.add_argument("sysconfigdata")
    ap.add_argument("out")
    ap.add_argument("--strip-prefix", action="append", default=[], metavar="DIR=REPL")
    a = ap.parse_args()

    entries = collect(a.libdir)
    entries.append((os.path.basename(a.sysconfigdata), a.sysconfigdata))
    entries.sort()
    prefixes = [p.split("=", 1) for p in a.strip_prefix]
    # longest first, so nested dirs are replaced before their parents
    prefixes.sort(key=lambda p: -len(p[0]))

    with zipfile.ZipFile(a.out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for arc, path in entries:
            with open(path, "rb") as f:
                src = f.read()
            if path == a.sysconfigdata:
                for old, new in prefixes:
                    src = src.replace(old.encode(), new.encode())
            code = compile(src, arc, "exec", dont_inherit=True, optimize=0)
            data = _bse._code_to_hash_pyc(code, importlib.util.source_hash(src), checked=False)
            zi = zipfile.ZipInfo(arc[:-3] + ".pyc", date_time=DATE)
            zi.create_system = 3
            zi.external_attr = 0o100644 << 16
            z.writestr(zi, bytes(data), zipfile.ZIP_DEFLATED, 9)
    print(f"{a.out}: {len(entries)} modules, {os.path.getsize(a.out)} bytes")


if __name__ == "__main__":
    main()
