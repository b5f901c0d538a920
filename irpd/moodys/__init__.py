"""Moody's IRP access: the production aiohttp client (``client``) and the fake server (``fake``).

Import what you need from the submodules (``irpd.moodys.client``, ``irpd.moodys.settings`` …);
this package module stays free of heavy imports.
"""
