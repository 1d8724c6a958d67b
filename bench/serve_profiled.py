"""`python -m service` under cProfile, switched by signals (SIGUSR1 on, SIGUSR2 off + dump).

Run as `python -m bench.serve_profiled OUT.prof [service arguments]`: the profile then holds the
streaming window alone, not the imports and start-up.
"""

from __future__ import annotations

import cProfile
import signal
import sys
from types import FrameType

from service.__main__ import main as service_main


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    profiler = cProfile.Profile()

    def start(signum: int, frame: FrameType | None) -> None:
        profiler.enable()

    def stop(signum: int, frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    return service_main(argv)


if __name__ == "__main__":
    sys.exit(main())
