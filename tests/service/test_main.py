"""The command line: `python -m service`."""

from __future__ import annotations

import subprocess
import sys

from service.__main__ import main


def test_help_lists_every_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service", "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--host", "--port", "--config"):
        assert option in result.stdout


def test_bad_settings_exit_2_with_a_message(tmp_path, capsys) -> None:
    assert main(["--config", str(tmp_path / "absent.yaml")]) == 2
    assert "invalid settings: settings file not found" in capsys.readouterr().err


def test_python_m_service_serves_the_demo_agent(unused_tcp_port) -> None:
    import json
    import os
    import time
    import urllib.request

    env = {**os.environ, "LOG_FORMAT": "json", "DEMO_DELAY": "0.001"}
    for name in ("LLAMA_STACK_BASE_URL", "SERVICE_CONFIG", "HEARTBEAT_INTERVAL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(unused_tcp_port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{unused_tcp_port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/liveness", timeout=1) as response:
                    assert json.load(response) == {"alive": True}
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("the service did not start")
        request = urllib.request.Request(
            f"{base}/v1/streaming_query",
            data=b'{"query": "hello"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read().decode()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    events = [json.loads(f[6:])["event"] for f in body.split("\n\n") if f]
    assert events[0] == "start"
    assert events[-1] == "end"
    assert "tool_call" in events
    first_log = json.loads(stderr.splitlines()[0])
    assert first_log["level"] == "warning"
    assert first_log["event"].startswith("NO UPSTREAM CONFIGURED: serving the built-in DEMO AGENT")
    assert process.returncode == 0
