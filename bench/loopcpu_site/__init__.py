"""The folder ``bench.run --loop-cpu`` puts on the daemons' ``PYTHONPATH`` (bench/loopcpu.py)."""
