"""Fake llama-stack/OGX servers replaying real wire bytes: the tests' and the benchmarks' one fake.

`fakes.agents_upstream` (Agents API 0.2), `fakes.responses_upstream` (Responses API, llama-stack
0.7 and OGX 1.x) and `fakes.upstream` (both on one server, as the benchmarks run it). Neither
`tests` nor `bench` is imported from here.
"""
