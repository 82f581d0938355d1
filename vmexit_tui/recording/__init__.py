"""Every source of intervals: perf record in chunks, perf live, the demo, and those to come."""
