"""`viva serve` start-up per backend: seconds to /healthz and to /readyz, and the peak RSS.

python bench/startup.py                  # torch and each optional backend that is installed
python bench/startup.py --backends torch,openvino --rounds 3
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run(backend: str, data_dir: str) -> tuple[float, float, float]:
    port = free_port()
    env = {**os.environ, "VIVA_EMBEDDING_BACKEND": backend, "VIVA_DATA_DIR": data_dir}
    cmd = [sys.executable, "-c", "from viva.cli.main import main; main()", "serve"]
    cmd += ["--port", str(port)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    health = ready = float("nan")
    try:
        while time.perf_counter() - t0 < 300:
            if health != health and status(base + "/healthz") == 200:
                health = time.perf_counter() - t0
            if health == health and status(base + "/readyz") == 200:
                ready = time.perf_counter() - t0
                break
            time.sleep(0.02)
        rss = peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    return health, ready, rss


def installed_backends() -> str:
    """torch, and each optional backend whose extra imports."""
    found = ["torch"]
    for backend, modules in (("onnx", ("onnxruntime",)), ("openvino", ("openvino", "nncf"))):
        if all(importlib.util.find_spec(m) is not None for m in modules):
            found.append(backend)
    return ",".join(found)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", default=installed_backends())
    ap.add_argument("--rounds", type=int, default=1, help="starts per backend")
    args = ap.parse_args()
    data_dir = os.environ.get("VIVA_DATA_DIR") or tempfile.mkdtemp(prefix="viva-startup-")
    for b in args.backends.split(","):
        for _ in range(args.rounds):
            health, ready, rss = run(b, data_dir)
            print(
                f"{b:8s} /healthz {health:5.2f} s   /readyz {ready:5.2f} s   "
                f"peak RSS {rss:5.0f} MB",
                flush=True,
            )


if __name__ == "__main__":
    main()
