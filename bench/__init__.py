"""Benchmarks: measure the real daemon; never run as pass/fail tests."""
