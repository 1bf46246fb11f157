"""Does a .deb's ``Depends`` cover every system library its frozen bundle loads?

    python packaging/deb/bundle_depends.py BUNDLE_DIR PACKAGE.deb

PyInstaller leaves the desktop's libraries (xcb, Wayland, GL, GLib, PulseAudio, OpenSSL,
...) to the machine, and ``scripts/build`` trims more of them out of the bundles: each
one must then be a ``Depends`` of the package, or a plain install starts a display
that cannot load its platform plugin. This runs ``ldd`` on every ELF file in the bundle,
keeps the libraries it resolves outside the bundle, asks ``dpkg -S`` which Debian
package owns each, and exits 1 naming any package the ``Depends`` line lacks
(``libc6`` and other essential packages count as present). ``scripts/smoke`` runs it on
the real bundles.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ESSENTIAL = {"libc6", "libgcc-s1", "libcrypt1", "libselinux1", "libzstd1", "zlib1g"}


def _elf_files(bundle: Path) -> list[Path]:
    files = []
    for path in bundle.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    files.append(path)
    return files


def system_libraries(bundle: Path) -> tuple[set[Path], set[str]]:
    """The libraries outside ``bundle`` that its ELF files name as NEEDED, and the names ldd
    could not find at all (``not found``: the bundle's own, resolved at run time
    through its rpath, or missing from this machine)."""
    outside: set[Path] = set()
    missing: set[str] = set()
    inside = {path.name for path in bundle.rglob("*")}
    for elf in _elf_files(bundle):
        # only the file's own NEEDED entries: what those load in turn is their
        # packages' own Depends
        dynamic = subprocess.run(
            ["readelf", "-d", str(elf)], capture_output=True, text=True, check=False
        ).stdout
        needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", dynamic))
        result = subprocess.run(["ldd", str(elf)], capture_output=True, text=True, check=False)
        for line in result.stdout.splitlines():
            found = re.match(r"\s*(\S+) => (/\S+) \(", line)
            if found and found.group(1) not in needed:
                continue
            if found:
                path = Path(found.group(2)).resolve()
                if bundle.resolve() not in path.parents:
                    outside.add(path)
                continue
            gone = re.match(r"\s*(\S+) => not found", line)
            if gone and gone.group(1) not in inside:
                missing.add(f"{gone.group(1)} (needed by {elf.relative_to(bundle)})")
    return outside, missing


def owners(paths: set[Path]) -> dict[str, set[Path]]:
    by_package: dict[str, set[Path]] = {}
    for path in sorted(paths):
        candidates = [str(path), str(path).replace("/usr/lib/", "/lib/", 1)]
        package = None
        for candidate in candidates:
            result = subprocess.run(
                ["dpkg", "-S", candidate], capture_output=True, text=True, check=False
            )
            if result.returncode == 0:
                package = result.stdout.split(":", 1)[0].strip()
                break
        by_package.setdefault(package or f"(no package owns {path})", set()).add(path)
    return by_package


def depends_of(deb: Path) -> set[str]:
    line = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True, check=True
    ).stdout
    names = set()
    for part in line.replace("|", ",").split(","):
        name = part.strip().split(" ", 1)[0].split(":", 1)[0]
        if name:
            names.add(name)
    return names


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: " + __doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 64
    bundle, deb = Path(argv[0]), Path(argv[1])
    outside, missing = system_libraries(bundle)
    needed = owners(outside)
    depends = depends_of(deb)
    lacking = {pkg: libs for pkg, libs in needed.items() if pkg not in depends | ESSENTIAL}
    print(
        f"{bundle}: {len(outside)} system libraries from {len(needed)} packages; "
        f"{deb.name} Depends on {len(depends)}"
    )
    status = 0
    for package, libs in sorted(lacking.items()):
        print(f"  NOT in Depends: {package} ({', '.join(sorted(p.name for p in libs))})")
        status = 1
    for name in sorted(missing):
        print(f"  NOT FOUND on this machine: {name}")
        status = 1
    if status == 0:
        print("  every system library is a Depends (or essential)")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
