"""Headless subcommands of the vmexit-tui console script, one module each."""
