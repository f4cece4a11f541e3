"""Processes: the daemon and its jobs, the generate child, the warm worker, leadership, heartbeat, the demo."""
