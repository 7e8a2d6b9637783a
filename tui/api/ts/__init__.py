"""The UI-free core of the Time series area and ``ihub ts`` (issue 9). No Textual here.

Modules: ``timerange`` (what ``T`` accepts, presets, the local zone), ``plan`` (raw or aggregates, which
interval, how to split), ``fetch`` (``TimeSeriesReader``: probe, concurrent reads, cache), ``frame``
(columnar data and statistics), ``view`` (what a chart draws: points per column, gaps, band, quality
marks, cursor readout), ``downsample`` (a few points per column, exact extremes, gaps kept),
``cache`` (session cache of ranges), ``export`` (CSV/JSON files and streaming rows), ``put`` (checking
a CSV against an aspect's variables before writing), ``textchart`` (a chart as lines of text).
"""
