"""Kolors Try-On Studio: a demo app and client for the Kling Kolors virtual try-on API."""

__version__ = "0.1.0"
