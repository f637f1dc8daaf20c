"""A real full disk: a 1 MiB tmpfs, which only root can mount."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests._markers import skip_or_fail_in_ci


@contextmanager
def small_tmpfs(point: Path) -> Iterator[Path]:
    """Mount a 1 MiB tmpfs at ``point`` for the block (skips the test where it cannot)."""
    mount, umount = shutil.which("mount"), shutil.which("umount")
    if os.geteuid() != 0 or mount is None or umount is None:
        skip_or_fail_in_ci("mounting a small tmpfs needs root and mount(8)")
    point.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(point)], capture_output=True
    )
    if mounted.returncode != 0:
        skip_or_fail_in_ci(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run([umount, str(point)], check=True)


def fill(point: Path) -> None:
    """Take every free byte of the file system at ``point``."""
    with (point / "filler").open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
