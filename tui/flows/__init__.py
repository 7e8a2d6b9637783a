"""UI-free workflows shared by the screens and the command line.

A flow strings API calls (``tui.api``), local crypto (``tui.pki``) and local state (``tui.config``)
together into one user action, reports its steps as they happen and returns a typed result. No Textual
here (``tests/unit/test_layers.py``).
"""
