"""`python -m bench`: run the benchmarks, print the tables, save them under artifacts/bench/."""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from bench.paths import ARTIFACTS
from bench.report import Context, Result, render, save

BENCHMARKS = ("frames", "e2e", "peers", "ttfb", "idle", "workers", "profile", "resume")


def machine() -> str:
    """One line about this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def run_one(name: str, ctx: Context) -> Result:
    """Run one benchmark module's `run(ctx)`; a failure becomes a result that says so."""
    started = time.monotonic()
    try:
        module = importlib.import_module(f"bench.{name}")
        result: Result = module.run(ctx)
    except Exception:
        result = Result(name, error=traceback.format_exc())
    result.seconds = time.monotonic() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run of every benchmark")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help=f"some of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--out", type=Path, default=None, help="where results go")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    out = args.out or (ARTIFACTS / ("quick" if args.quick else "full"))
    ctx = Context(quick=args.quick, out=out)
    results = []
    started = time.monotonic()
    for name in names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        result = run_one(name, ctx)
        state = "FAILED" if result.error else "done"
        print(f"bench: {name} {state} in {result.seconds:.1f} s", file=sys.stderr, flush=True)
        if result.error:
            print(result.error, file=sys.stderr)
        results.append(result)
    command = "python -m bench" + (" --quick" if args.quick else "")
    if args.only:
        command += " --only " + " ".join(args.only)
    header = (
        f"{datetime.date.today().isoformat()}, `{command}` "
        f"({time.monotonic() - started:.0f} s), {machine()}"
    )
    markdown = render(results, header)
    save(results, markdown, out)
    print(markdown)
    failed = [r.name for r in results if r.error]
    if failed:
        print(f"bench: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
