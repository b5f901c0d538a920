"""irpd: the batch and job lifecycle daemon for Moody's Intelligent Risk Platform cycles."""

__version__ = "0.1.0"
