"""The version of s2s (its own module, so that s2s.export can read it without importing
the package that imports s2s.export)."""
__version__ = "0.1.0"
