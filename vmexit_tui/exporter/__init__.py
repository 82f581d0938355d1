"""The Prometheus exporter (`vmexit-tui serve`) and the reader of its metrics (fleet view).

store (counters that only grow) <- supervisor (guests come and go, one recorder each)
<- sources (demo, kernel, count); collector (store -> Prometheus metrics); listen (address
checks, prometheus_client's server); fleet (several exporters' /metrics -> rows).
"""
