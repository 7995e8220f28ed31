"""Run the platform under supervisord: what `make run` starts, and how to handle one process.

    python -m deploy.supervise                  # start everything; Ctrl-C stops everything
    python -m deploy.supervise ctl status       # (another terminal) every process and its state
    python -m deploy.supervise ctl stop billing # stop one; `start billing` brings it back

A process that exits on its own (a crash, `kill -9`) is started again within a few seconds;
one stopped with `ctl stop` stays stopped until `ctl start`. Every process writes to this
terminal, each line naming its process.
"""

import os
import sys
from pathlib import Path

from common.env import bind_host, dev_mode, flower_port, var_dir
from common.paths import REPO_ROOT
from deploy import banner, processes

BIN = Path(sys.executable).parent
GROUP = "streamify"


def folder() -> Path:
    path = var_dir() / "supervisor"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _quoted(value: str) -> str:
    # supervisord's `environment` syntax: KEY="value", with % doubled (it expands %(name)s).
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def config() -> str:
    here = folder()
    programs = processes.platform(
        flower_port=flower_port(),
        host=bind_host(),
    )
    lines = [
        "[supervisord]",
        "nodaemon=true",
        f"logfile={here / 'supervisord.log'}",
        f"pidfile={here / 'supervisord.pid'}",
        f"childlogdir={here}",
        "loglevel=warn",
        "",
        "[unix_http_server]",
        f"file={here / 'supervisor.sock'}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{here / 'supervisor.sock'}",
        "",
    ]
    # One group, so a shutdown stops every process at once (supervisord stops groups one by one).
    lines += [f"[group:{GROUP}]", f"programs={','.join(p.name for p in programs)}", ""]
    for program in programs:
        command = " ".join(arg.replace("%", "%%") for arg in program.argv)
        environment = ",".join(f"{k}={_quoted(v)}" for k, v in program.env.items())
        lines += [
            f"[program:{program.name}]",
            f"command={command}",
            f"directory={REPO_ROOT}",
            f"environment={environment}",
            "autostart=true",
            "autorestart=true",
            "startsecs=2",
            "startretries=20",
            "stopsignal=TERM",
            "stopwaitsecs=35",  # past the web server's own kill timeout (deploy.web)
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
            "",
        ]
    return "\n".join(lines)


def write_config() -> Path:
    """The configuration, readable by its owner only: it holds Flower's password."""
    path = folder() / "supervisord.conf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(config())
    os.chmod(path, 0o600)
    return path


def ctl_arguments(argv: list[str]) -> list[str]:
    """supervisorctl's arguments, with bare process names put in their group (`billing`)."""
    names = set(processes.names())
    return [f"{GROUP}:{arg}" if arg in names else arg for arg in argv]


def main(argv: list[str]) -> None:
    if argv[:1] == ["ctl"]:
        path = folder() / "supervisord.conf"
        command = [str(BIN / "supervisorctl"), "-c", str(path), *ctl_arguments(argv[1:])]
    else:
        path = write_config()
        banner.main(flower_login=processes.flower_credentials() if dev_mode() else None)
        command = [str(BIN / "supervisord"), "-c", str(path)]
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
