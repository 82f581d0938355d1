"""Text and files in and out: perf's report text, snapshots, exports, report output."""
