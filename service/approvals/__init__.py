"""Tool approvals: the desk where a turn's approval requests wait for a person's decision."""
