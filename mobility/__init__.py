"""Timetables, streets, sharing, realtime and the intermodal planner."""
