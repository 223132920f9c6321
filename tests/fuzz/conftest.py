"""The fuzz tests of every reader: strategies and the shared check are in ``hostile.py``."""
