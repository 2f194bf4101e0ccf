"""The door-to-door planner: walk, transit, bike and car sharing, and an own car to a free charger.

- ``query.py``: a query (two places, depart at or arrive by, modes, walking limits);
- ``plan.py``: the planner, which combines the pieces below into Pareto-optimal itineraries;
- ``streets.py``: street legs on the profile graphs; ``transit.py``: stops linked to the streets,
  access, egress and street footpaths for RAPTOR; ``rental.py``: rental and own-car legs;
- ``availability.py``: shared vehicles and charger status at the query time;
- ``itinerary.py``: itineraries and legs, the API's JSON shape;
- ``graphdir.py``: a prepared graph folder (``knoten build --osm``); ``batch.py``: many queries.
"""
