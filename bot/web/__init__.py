"""The web admin (`memeloop web`): review board, schedule, posts and accounts, engagement dashboard.

A Starlette application (bot/web/server.py) over the service object only; Jinja2 templates with
autoescape; a little JavaScript of our own shipped in static/ (no CDN); charts as server-rendered SVG.
"""
