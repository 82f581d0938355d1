"""Screens pushed over the main one: help, reason detail, run picker."""
