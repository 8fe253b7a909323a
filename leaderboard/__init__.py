"""Leaderboards from lmms-eval output folders: tables, plots, bootstrap confidence intervals."""
