"""Runnable scenarios built from generated or real data, each with its own README.

``scenarios.demo`` generates the fictional demo city Knotenstadt (streets, timetable, sharing
feeds, charging points and sessions, a SUMO scenario) that every capability can be tried on.
Only ``api`` imports scenarios (an import-linter contract); the cores never depend on them.
"""
