"""One turn as a stream: session, pump, heartbeats, drain, non-streamed answers."""
