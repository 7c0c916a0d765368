"""Chaos suite: concurrent and SIGKILLed ticks against the order invariants (see docs/reliability.md)."""
