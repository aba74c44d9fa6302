"""Hostile input through every surface (issue 11): reproductions and fuzz targets."""
