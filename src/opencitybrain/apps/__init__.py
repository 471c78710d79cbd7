"""Scenario apps (parking, fleet, emergency, signals, …): one folder each.

Apps never import each other; they meet only through events and services.
"""
