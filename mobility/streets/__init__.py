"""OSM street networks: walk, bike and car graphs, one-to-many searches, point linking, cache."""

from __future__ import annotations

from mobility.streets.cache import load_network
from mobility.streets.graph import ProfileGraph, StreetNetwork, build_network
from mobility.streets.snap import Links, Snapper

__all__ = ["Links", "ProfileGraph", "Snapper", "StreetNetwork", "build_network", "load_network"]
