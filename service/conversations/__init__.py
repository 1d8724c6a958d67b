"""Conversations bound to their owner: who may continue which conversation, on every replica."""
