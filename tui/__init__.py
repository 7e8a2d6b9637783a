"""ihub: a keyboard-first terminal app for Siemens Insights Hub (formerly MindSphere).

Importing ``tui`` imports no Textual: the API, config, PKI and simulator layers stay UI-free.
"""

__version__ = "0.1.0"
