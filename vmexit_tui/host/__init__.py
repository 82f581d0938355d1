"""This host: VM discovery and pinning, preflight checks, process lifecycle, private folders."""
