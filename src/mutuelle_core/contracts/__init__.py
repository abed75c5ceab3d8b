"""Employers, correspondents and their access scope, collective contracts, assured groups, products."""
