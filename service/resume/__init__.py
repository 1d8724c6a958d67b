"""Resumable streams: turns that outlive their connection, frames kept for reconnects."""
