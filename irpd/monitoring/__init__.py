"""Monitoring: Prometheus metrics (:mod:`irpd.monitoring.metrics`) and their HTTP endpoint."""
