"""``maglumat-dbt``: dbt, bound to the life of the process that started it.

The pipeline runs dbt as a child process while it holds the warehouse's writer lock. If the
pipeline's process is killed (SIGKILL, the machine's out-of-memory killer), its lock is gone at
once; a dbt left running would go on writing to a warehouse that another run may now open.
So the child asks Linux to kill it when its parent dies (``PR_SET_PDEATHSIG``, which survives the
``exec`` of dbt), checks that the parent was not already gone, and becomes dbt.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def bind_to_parent() -> None:
    """Die with the parent process (Linux); elsewhere, nothing to do."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def main() -> None:
    parent = os.getppid()
    bind_to_parent()
    if os.getppid() != parent:  # the parent died before the request took effect
        sys.exit("maglumat-dbt: the process that started dbt is gone; not starting")
    dbt = Path(sys.executable).parent / "dbt"
    executable = str(dbt) if dbt.exists() else "dbt"
    os.execvp(executable, [executable, *sys.argv[1:]])


if __name__ == "__main__":
    main()
