"""Test helpers shared by handler tests."""
