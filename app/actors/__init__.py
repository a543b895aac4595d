"""Actors: people, states, organisations and unnamed speakers, with aliases and affiliations."""
