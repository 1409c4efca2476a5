"""Fault injection: the connector as a process against broken APIs, disks, sinks and signals (issue 9)."""
