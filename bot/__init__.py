"""The memeloop service: config, wiring, daemon + scheduler jobs, publishers, admin CLI."""
