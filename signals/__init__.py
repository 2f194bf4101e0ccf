"""SUMO scenarios, signal controllers, OR-Tools timing optimisation and KPIs."""
