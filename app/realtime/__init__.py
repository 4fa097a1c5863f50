"""Placeholder until its issue lands: registers nothing yet."""

from flask import Flask


def init_app(app: Flask) -> None:
    return None


def start_background_jobs(app: Flask) -> None:
    return None
