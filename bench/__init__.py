"""Benchmarks: every figure a ratio against a peer measured in the same run (`python -m bench`).

Each benchmark is a module `bench/NAME.py` with `run(ctx: bench.report.Context) ->
bench.report.Result`: its tables (`Table`) and headline ratios (`Headline`: figure, measured
value, target, met). `ctx.quick` asks for a smoke run (seconds, not minutes); `ctx.pick(quick,
full)` chooses sizes; `ctx.out` is where logs and artifacts go. The runner (`bench/__main__.py`)
runs the modules named in `BENCHMARKS`. Helpers to reuse: `bench.targets` (start the fake
upstream, the service with extra settings as environment variables, the relay,
lightspeed-stack), `bench.client` (lean streaming client: `open_stream`, `run_streams`, TTFB),
`bench.procs` (CPU seconds and RSS from /proc).
"""
