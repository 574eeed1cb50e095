"""Lieux de médiation numérique: import of the national standard, nearest-place search, rendering."""
