"""Departures: motives, portability, Evin and maintien after death."""
