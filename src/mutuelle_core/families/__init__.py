"""Families: the beneficiaries of an affiliation, their eligibility and their cover periods."""
