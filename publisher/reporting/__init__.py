"""Reporting: report.json built from an evaluation, and every view rendered from it.

report.json (:mod:`~publisher.reporting.report_json`) is computed once; report.md,
report.html (:mod:`~publisher.reporting.render`, :mod:`~publisher.reporting.plots`),
the datasheet and the terminal tables only render it.
"""
