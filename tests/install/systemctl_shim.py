"""A stand-in for ``systemctl`` where systemd is not PID 1 (CI containers, this
machine), so the README's install commands can be followed as written.

It does what the installed unit says, no more: ``daemon-reload`` reads nothing
(each start reads the unit again); ``enable --now UNIT`` and ``start UNIT`` read
``/lib/systemd/system/UNIT.service`` and its drop-ins in
``/etc/systemd/system/UNIT.service.d/*.conf``, check ``ConditionPathExists=``, create
``StateDirectory=`` and ``LogsDirectory=`` for ``User=``, decrypt every
``LoadCredentialEncrypted=`` with ``systemd-creds decrypt`` into a private
``$CREDENTIALS_DIRECTORY`` (``/run/credentials/UNIT``, as systemd's; an empty
assignment resets the list, as in systemd), and
start ``ExecStart=`` as ``User=``/``Group=`` through ``setpriv``; ``status UNIT`` says
``active (running)`` with the main PID while it lives (exit 0), else exit 3; ``stop``
sends SIGTERM. State (PIDs, logs, credentials) lives in ``$KDS_SHIM_STATE``.
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

UNIT_DIRS = (Path("/lib/systemd/system"), Path("/usr/lib/systemd/system"))
DROPIN_DIR = Path("/etc/systemd/system")


def _unit_name(name: str) -> str:
    return name if "." in name else f"{name}.service"


def read_unit(name: str) -> dict[str, list[str]]:
    files = [d / name for d in UNIT_DIRS if (d / name).is_file()][:1]
    if not files:
        raise SystemExit(f"systemctl (shim): Unit {name} not found.")
    files += sorted((DROPIN_DIR / f"{name}.d").glob("*.conf"))
    settings: dict[str, list[str]] = {}
    for file in files:
        for raw in file.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", ";", "[")) or "=" not in line:
                continue
            key, value = (part.strip() for part in line.split("=", 1))
            if value == "":
                settings[key] = []  # an empty assignment resets a list setting
            else:
                settings.setdefault(key, []).append(value)
    return settings


def _state() -> Path:
    path = Path(os.environ["KDS_SHIM_STATE"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pid(name: str) -> int | None:
    try:
        pid = int((_state() / f"{name}.pid").read_text())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def start(name: str) -> int:
    unit = read_unit(name)
    for path in unit.get("ConditionPathExists", []):
        if not Path(path).exists():
            print(f"{name}: condition ConditionPathExists={path} not met: not started")
            return 0
    user = unit.get("User", ["root"])[-1]
    group = unit.get("Group", [user])[-1]
    account = pwd.getpwnam(user)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": account.pw_dir}
    for key, base in (("StateDirectory", "/var/lib"), ("LogsDirectory", "/var/log")):
        for value in unit.get(key, []):
            folder = Path(base) / value
            folder.mkdir(parents=True, exist_ok=True)
            os.chown(folder, account.pw_uid, account.pw_gid)
            folder.chmod(0o700)
            env[key.replace("Directory", "_DIRECTORY").upper()] = str(folder)
    # where systemd puts them too: a folder the service user can reach
    creds = Path("/run/credentials") / name
    shutil.rmtree(creds, ignore_errors=True)
    creds.mkdir(mode=0o700, parents=True)
    for entry in unit.get("LoadCredentialEncrypted", []):
        cred_id, _, source = entry.partition(":")
        target = creds / cred_id
        subprocess.run(
            ["systemd-creds", "decrypt", f"--name={cred_id}", source, str(target)],
            check=True,
            timeout=30,
        )
        os.chown(target, account.pw_uid, account.pw_gid)
        target.chmod(0o400)
    os.chown(creds, account.pw_uid, account.pw_gid)
    env["CREDENTIALS_DIRECTORY"] = str(creds)
    argv = shlex.split(unit["ExecStart"][-1])
    log = (_state() / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        ["setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups", "--", *argv],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd="/",
        start_new_session=True,
    )
    (_state() / f"{name}.pid").write_text(str(proc.pid))
    return 0


def status(name: str) -> int:
    pid = _pid(name)
    if pid is None:
        print(f"○ {name}\n     Active: inactive (dead)")
        return 3
    print(f"● {name}\n     Active: active (running)\n   Main PID: {pid}")
    return 0


def stop(name: str) -> int:
    pid = _pid(name)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
    return 0


def main(argv: list[str]) -> int:
    args = [arg for arg in argv if not arg.startswith("--") or arg == "--now"]
    if not args:
        return 0
    verb, names = args[0], [_unit_name(a) for a in args[1:] if a != "--now"]
    if verb == "daemon-reload":
        return 0
    if verb == "enable":
        return max((start(n) for n in names), default=0) if "--now" in argv else 0
    if verb == "start":
        return max((start(n) for n in names), default=0)
    if verb == "status":
        return max((status(n) for n in names), default=0)
    if verb == "stop":
        return max((stop(n) for n in names), default=0)
    print(f"systemctl (shim): {verb} is not what the README asks for", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
