"""Reading and writing what perf prints."""
