"""Charging points (OCPI), sites and sessions, OR-Tools schedules and OCPP export."""
